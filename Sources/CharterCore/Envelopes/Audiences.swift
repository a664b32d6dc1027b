public import Foundation
public import UCAN

/// The services an envelope's tokens may be addressed to by URL: each resource indicator an OAuth client may
/// name (RFC 8707 `resource`, such as an MCP server's `https://mail.example.com/mcp`) with the DID the service
/// verifies tokens as, which becomes the token's `aud`.
///
/// A client may also name a `did:key` directly, as `/v1/authorize`'s `audience` does; the URLs exist because
/// standard OAuth and MCP clients only know the service's URL.
public struct Audiences: Sendable, Hashable {
    public static let none = Audiences([:])
    /// The most services one envelope may name.
    public static let limit = 32
    /// The longest resource URL.
    public static let maxURLLength = 2048

    /// Each resource URL and its DID.
    public let byURL: [String: DID]

    public init(_ byURL: [String: DID]) { self.byURL = byURL }

    public var isEmpty: Bool { byURL.isEmpty }

    /// Reads audiences from a request: an object of resource URL → `did:key`.
    /// - Throws: ``CharterError`` `validation_failed` naming the entry at fault: a URL that is not an absolute
    ///   `http`/`https` URL without a fragment (RFC 8707 §2), or a value that is not a DID.
    public init(json: JSONValue, field: String = "audiences") throws(CharterError) {
        guard case .object(let members) = json else {
            throw CharterError.invalid(field, "must be an object of resource URL → did:key")
        }
        guard members.count <= Self.limit else {
            throw CharterError.invalid(field, "may name at most \(Self.limit) services")
        }
        var byURL: [String: DID] = [:]
        for (url, did) in members {
            guard Self.isResourceURL(url) else {
                throw CharterError.invalid(
                    "\(field).\(url.prefix(100))", "must be an absolute http or https URL without a fragment")
            }
            guard case .string(let text) = did, let did = try? DID(text) else {
                throw CharterError.invalid("\(field).\(url)", "must be a did:key")
            }
            byURL[url] = did
        }
        self.init(byURL)
    }

    /// The audiences as stored and shown: an object of URL → DID.
    public var json: JSONValue { .object(byURL.mapValues { .string($0.string) }) }

    /// Whether `text` is a resource indicator Charter accepts: an absolute `http` or `https` URL with a host and
    /// no fragment, of printable ASCII.
    public static func isResourceURL(_ text: String) -> Bool {
        guard text.utf8.count <= maxURLLength, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            !text.contains("#"), let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        return true
    }
}
