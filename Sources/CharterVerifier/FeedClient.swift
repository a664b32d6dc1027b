import Foundation
import UCAN

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Fetches `GET /v1/issuers` and `GET /v1/revocations` from a Charter server; both are public.
///
/// Foundation's URLSession rather than an HTTP client package: two small GETs every few seconds do not
/// justify building a TLS stack into every service that links the verifier.
struct FeedClient: Sendable {
    static let pageSize = 1000
    let server: URL
    let session: URLSession

    init(server: URL, timeout: TimeInterval) {
        self.server = server
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 2
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    /// Every published issuer whose status is `active`, `verify_only` or `expired`; others are not trusted.
    func issuers() async throws -> [PublishedIssuer] {
        let body = try await get("v1/issuers", query: [])
        guard case .array(let list)? = body["issuers"] else { throw FeedError("/v1/issuers has no issuers array") }
        var issuers: [PublishedIssuer] = []
        for (index, item) in list.enumerated() {
            guard case .object(let fields) = item, case .string(let did)? = fields["did"],
                case .string(let status)? = fields["status"], let did = try? DID(did),
                case .string(let environment)? = fields["environment"]
            else { throw FeedError("/v1/issuers: issuers[\(index)] is not an issuer") }
            let org: String?
            switch fields["org"] {
            case .string(let id)?: org = id
            case .null?: org = nil
            default: throw FeedError("/v1/issuers: issuers[\(index)].org is not an organization id or null")
            }
            let notAfter: Date?
            switch fields["not_after"] {
            case nil, .null?: notAfter = nil
            case .string(let text)?:
                guard let date = Timestamp.parse(text) else {
                    throw FeedError("/v1/issuers: issuers[\(index)].not_after is not a timestamp")
                }
                notAfter = date
            default: throw FeedError("/v1/issuers: issuers[\(index)].not_after is not a timestamp")
            }
            guard ["active", "verify_only", "expired"].contains(status) else { continue }
            if status != "active" && notAfter == nil { continue }
            issuers.append(PublishedIssuer(did: did, org: org, environment: environment, notAfter: notAfter))
        }
        return issuers
    }

    /// One page of `feed` after `since`, with its signed head (not yet checked).
    func revocations(_ feed: FeedKey, since: Int64) async throws -> RevocationPage {
        let body = try await get(
            "v1/revocations",
            query: [
                URLQueryItem(name: "org", value: feed.org),
                URLQueryItem(name: "environment", value: feed.environment),
                URLQueryItem(name: "since", value: String(since)),
                URLQueryItem(name: "limit", value: String(Self.pageSize)),
            ])
        guard case .array(let list)? = body["revocations"], case .integer(let nextSince)? = body["next_since"] else {
            throw FeedError("/v1/revocations has no revocations array or next_since")
        }
        let head = try FeedHead(body["head"])
        var entries: [FeedEntry] = []
        var skipped = 0
        for (index, item) in list.enumerated() {
            guard case .object(let fields) = item, case .integer(let seq)? = fields["seq"],
                case .string(let kind)? = fields["kind"], case .string(let subject)? = fields["revoke"],
                case .string(let iss)? = fields["iss"], let issuer = try? DID(iss),
                case .string(let challenge)? = fields["challenge"], let signature = Base64URL.decode(challenge),
                case .string(let coversUntil)? = fields["covers_until"], let until = Timestamp.parse(coversUntil)
            else { throw FeedError("/v1/revocations: revocations[\(index)] is not a revocation") }
            let parsed: FeedEntry.Kind
            switch kind {
            case "envelope": parsed = .envelope(subject)
            case "token":
                guard let cid = try? CID(subject) else {
                    throw FeedError("/v1/revocations: revocations[\(index)].revoke is not a CID")
                }
                parsed = .token(cid)
            default:
                skipped += 1
                continue
            }
            entries.append(
                FeedEntry(
                    seq: seq, kind: parsed, subject: subject, issuer: issuer, challenge: signature,
                    coversUntil: until))
        }
        return RevocationPage(
            entries: entries, listed: .array(list), skipped: skipped, nextSince: nextSince, head: head)
    }

    private func get(_ path: String, query: [URLQueryItem]) async throws -> JSONObject {
        var url = server.appending(path: path)
        if !query.isEmpty { url.append(queryItems: query) }
        var request = URLRequest(url: url)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw FeedError("\(path): cannot reach the server (\(type(of: error)))")
        }
        guard let http = response as? HTTPURLResponse else { throw FeedError("\(path): not an HTTP response") }
        guard http.statusCode == 200 else { throw FeedError("\(path): HTTP \(http.statusCode)") }
        guard case .object(let object)? = try? JSONParser.parse([UInt8](data)) else {
            throw FeedError("\(path): the response is not a JSON object")
        }
        return object
    }
}
