import CharterHTTP
import Foundation
import UCAN

/// Fetches `GET /v1/issuers` and `GET /v1/revocations` from a Charter server; both are public.
///
/// Through CharterHTTPClient (Foundation's URLSession rather than an HTTP client package: two small GETs every
/// few seconds do not justify building a TLS stack into every service that links the verifier).
struct FeedClient: Sendable {
    static let pageSize = 1000
    let http: CharterHTTPClient

    init(server: URL, timeout: TimeInterval) {
        http = CharterHTTPClient(server: server, timeout: timeout)
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
        do {
            return try await http.send("GET", path, query: query).object()
        } catch {
            throw FeedError("/\(path): \(error.message)")
        }
    }
}
