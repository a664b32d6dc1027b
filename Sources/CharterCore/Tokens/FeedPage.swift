public import Foundation
public import UCAN

/// One page of an organization's revocation feed in one environment, with the head its issuer signs.
///
/// Each entry is signed on its own, but without the head a proxy could drop an entry (and a revoked token would
/// verify again) or replay an old answer. The head is the issuer's signature over what the page claims: the
/// feed, the range `(since, next_since]` it covers completely, the feed's latest `seq`, the server's time and a
/// digest of the entries exactly as listed. A verifier that checks it detects a dropped, altered or reordered
/// entry, a missing page (ranges must chain up to `seq`), and an answer older than the last it accepted.
public struct FeedPage: Sendable {
    /// The entries in the range, oldest first, as the answer lists them (its `revocations` array).
    public let listed: JSONValue
    /// Where the next page starts; equal to the head's `seq` on the last page.
    public let nextSince: Int64
    /// The signed head, as the `head` object of the answer.
    public let head: JSONObject

    /// The text a head's signature covers: a fixed prefix, then the head without `signature` as canonical JSON
    /// (compact, keys sorted), so any language can rebuild it from the fields it received.
    public static func signedMessage(_ unsignedHead: JSONObject) -> [UInt8] {
        Array("charter-feed-head:".utf8) + JSONValue.object(unsignedHead).serialized()
    }

    /// The digest the head names: SHA-256 of the `revocations` array as canonical JSON, in base64url.
    public static func digest(_ entries: JSONValue) -> String {
        Base64URL.encode(SHA256.hash(entries.serialized()))
    }

    /// Signs a page of `orgID`'s feed in `environment`.
    /// - Parameters:
    ///   - entries: the covering entries with seq in `(since, latest]`, at most `limit` of them, oldest first.
    ///   - listed: `entries` exactly as the answer will list them.
    ///   - latest: the highest seq the feed has handed out, read in the same transaction as `entries`.
    ///   - limit: the page size asked for; a full page ends at its last entry, any other at `latest`.
    static func signed(
        orgID: String, environment: Environment, since: Int64, entries: [RevocationEntry], listed: JSONValue,
        latest: Int64, limit: Int, at now: Date, by signer: Ed25519.SigningKey
    ) -> FeedPage {
        let nextSince = entries.count == limit ? entries.last?.seq ?? since : max(since, latest)
        var head: JSONObject = [
            "org": .string(orgID), "environment": .string(environment.rawValue), "since": .integer(since),
            "next_since": .integer(nextSince), "seq": .integer(max(latest, nextSince)),
            "time_ms": .integer(AuditChain.milliseconds(now)),
            "entries": .string(digest(listed)),
            "iss": .string(DID(publicKey: signer.publicKey).string),
        ]
        head["signature"] = .string(Base64URL.encode(signer.signature(for: signedMessage(head))))
        return FeedPage(listed: listed, nextSince: nextSince, head: head)
    }
}
