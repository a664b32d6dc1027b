import Foundation
import HTTPTypes
public import Hummingbird
public import UCAN

/// A service as an OAuth 2.0 protected resource (RFC 9728): its metadata names Charter as the authorization
/// server, so an OAuth or MCP client that is refused learns where to get a token.
///
/// Give it to ``RequireCapability`` or ``RequireInvocation`` and their 401s carry
/// `WWW-Authenticate: Bearer resource_metadata="…"`; serve the document with ``register(on:)``.
public struct ProtectedResource: Sendable {
    /// The service's resource identifier: the URL clients name it by, such as `https://mail.example.com/mcp`.
    public let resource: String
    /// The Charter servers that issue its tokens, such as `https://charter.example.com`.
    public let authorizationServers: [String]
    /// The abilities its routes need, listed in the metadata; empty to list none.
    public let scopesSupported: [String]
    /// Where the metadata is served, from RFC 9728 §3.1: `/.well-known/oauth-protected-resource` followed by the
    /// resource's path, if it has one.
    public let metadataPath: String
    /// The metadata's URL: the resource's origin and ``metadataPath``.
    public let metadataURL: String

    /// - Parameters:
    ///   - resource: an absolute `http` or `https` URL without a query or fragment.
    ///   - authorizationServers: Charter's URL (its OAuth issuer).
    ///   - scopesSupported: the abilities the service's routes need, such as `email/send`.
    /// - Precondition: `resource` is such a URL: it is configuration, not input.
    public init(resource: String, authorizationServers: [String], scopesSupported: [String] = []) {
        guard let url = URL(string: resource), let scheme = url.scheme, scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil,
            let schemeEnd = resource.range(of: "://")
        else { preconditionFailure("the protected resource must be an http(s) URL without a query or fragment") }
        let afterScheme = resource[schemeEnd.upperBound...]
        let pathStart = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        var path = String(afterScheme[pathStart...])
        if path == "/" { path = "" }
        self.resource = resource
        self.authorizationServers = authorizationServers
        self.scopesSupported = scopesSupported
        metadataPath = "/.well-known/oauth-protected-resource" + path
        metadataURL = String(resource[..<schemeEnd.upperBound]) + afterScheme[..<pathStart] + metadataPath
    }

    /// The metadata document (RFC 9728 §2).
    public var metadata: JSONValue {
        var members: JSONObject = [
            "resource": .string(resource),
            "authorization_servers": .array(authorizationServers.map(JSONValue.string)),
            "bearer_methods_supported": ["header"],
        ]
        if !scopesSupported.isEmpty { members["scopes_supported"] = .array(scopesSupported.map(JSONValue.string)) }
        return .object(members)
    }

    /// Serves the metadata at ``metadataPath``, as the Python and TypeScript SDKs do: GET and HEAD, public and
    /// cacheable for an hour, to any origin (browser-based MCP clients read it too), and an OPTIONS preflight.
    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        let body = ByteBuffer(bytes: metadata.serialized())
        let headers: HTTPFields = [
            .contentType: "application/json", .cacheControl: "public, max-age=3600", .accessControlAllowOrigin: "*",
        ]
        let path = RouterPath(metadataPath)
        router.get(path) { _, _ in Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body)) }
        router.head(path) { _, _ in
            var head = headers
            head[.contentLength] = String(body.readableBytes)
            return Response(status: .ok, headers: head)
        }
        router.on(path, method: .options) { _, _ in
            Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: "*", .accessControlAllowMethods: "GET, HEAD, OPTIONS",
                    .allow: "GET, HEAD, OPTIONS",
                ])
        }
    }
}

/// What a refusal's `WWW-Authenticate` says (RFC 6750 §3, RFC 9728 §5.1): `invalid_token` when a credential
/// was presented and failed, `insufficient_scope` with the ability a route needs when the token lacks it, and
/// where the protected resource's metadata is.
struct BearerChallenge {
    /// Whether the request carried an `Authorization` header.
    var presented: Bool
    /// The ability the route needs, for a 0.10 route; nil for a 1.0 one, whose refusals a scope cannot fix.
    var scope: String?
    var resource: ProtectedResource?

    /// The header value for a refusal with `error`, or nil when it calls for none (503s, policy violations).
    func header(for error: VerificationError) -> String? {
        var parameters: [(String, String)] = []
        switch error.status {
        case .unauthorized:
            if presented { parameters.append(("error", "invalid_token")) }
        case .forbidden where error.code == .notCovered:
            guard let scope else { return nil }
            parameters += [("error", "insufficient_scope"), ("scope", scope)]
        default:
            return nil
        }
        if let resource { parameters.append(("resource_metadata", resource.metadataURL)) }
        guard !parameters.isEmpty else { return "Bearer" }
        return "Bearer " + parameters.map { "\($0)=\(Self.quoted($1))" }.joined(separator: ", ")
    }

    /// An RFC 7230 quoted-string.
    static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
