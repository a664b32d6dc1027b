import Foundation
import UCAN

/// The issuer-signed head of one page of an organization's revocation feed.
///
/// It names the feed (organization and environment), the range `(since, next_since]` the page covers
/// completely, the feed's latest `seq`, the server's time and a digest of the entries as listed. Checking it
/// turns a proxy that drops, alters or reorders entries, leaves out a page, or replays an old answer into a
/// failed sync round, so the verifier goes stale and fails closed instead of accepting a revoked token.
struct FeedHead: Sendable {
    let org: String
    let environment: String
    let since: Int64
    let nextSince: Int64
    /// The highest sequence number the server had handed out when it signed.
    let seq: Int64
    /// The server's time when it signed, to the millisecond.
    let time: Date
    /// base64url SHA-256 of the page's `revocations` array as canonical JSON.
    let entries: String
    let issuer: DID
    let signature: [UInt8]
    /// What the signature covers: a fixed prefix and every field but `signature`, as canonical JSON.
    let message: [UInt8]

    init(_ json: JSONValue?) throws(FeedError) {
        guard case .object(var fields)? = json, case .string(let signature)? = fields.removeValue(forKey: "signature"),
            let signature = Base64URL.decode(signature),
            case .string(let org)? = fields["org"], case .string(let environment)? = fields["environment"],
            case .integer(let since)? = fields["since"], case .integer(let nextSince)? = fields["next_since"],
            case .integer(let seq)? = fields["seq"], case .integer(let time)? = fields["time_ms"],
            case .string(let entries)? = fields["entries"], case .string(let iss)? = fields["iss"],
            let issuer = try? DID(iss)
        else { throw FeedError("/v1/revocations: the page has no well-formed signed head") }
        self.org = org
        self.environment = environment
        self.since = since
        self.nextSince = nextSince
        self.seq = seq
        self.time = Date(timeIntervalSince1970: TimeInterval(time) / 1000)
        self.entries = entries
        self.issuer = issuer
        self.signature = signature
        message = Array("charter-feed-head:".utf8) + JSONValue.object(fields).serialized()
    }

    /// Checks that this head is its issuer's signature over exactly the page received, for the page asked for,
    /// and no older than what the verifier already has. Whether the issuer is trusted for the feed is checked
    /// apart, once the round has read the issuer list.
    /// - Parameters:
    ///   - listed: the page's `revocations` array as received.
    ///   - nextSince: the page's `next_since`.
    ///   - feed: the organization and environment asked for.
    ///   - position: where the verifier stands in that feed: the `since` it asked with and the last head it took.
    func check(listed: JSONValue, nextSince: Int64, feed: FeedKey, position: FeedPosition) throws(FeedError) {
        let name = "the \(feed.org) \(feed.environment) feed"
        guard issuer.publicKey.isValidSignature(signature, for: message) else {
            throw FeedError("\(name): the page head's signature does not verify")
        }
        guard org == feed.org, environment == feed.environment, since == position.since,
            self.nextSince == nextSince
        else { throw FeedError("\(name): the signed head is for another page") }
        guard Base64URL.encode(SHA256.hash(listed.serialized())) == entries else {
            throw FeedError("\(name): the entries are not the ones the head signs (dropped, altered or reordered)")
        }
        guard nextSince >= since, seq >= nextSince else {
            throw FeedError("\(name): the signed head's range is inconsistent")
        }
        // Each answer is signed anew at the server's time in milliseconds, so one no newer than the last accepted
        // is a replay, unless it is the next page of the same round.
        if let last = position.head {
            guard time > last.time || (time == last.time && nextSince > since), seq >= last.seq else {
                throw FeedError("\(name): the signed head is not newer than one already seen (a replayed answer)")
            }
        }
    }
}

/// One organization's feed in one environment.
struct FeedKey: Sendable, Hashable, Comparable {
    let org: String
    let environment: String

    static func < (lhs: FeedKey, rhs: FeedKey) -> Bool {
        (lhs.org, lhs.environment) < (rhs.org, rhs.environment)
    }
}

/// Where a verifier stands in one feed.
struct FeedPosition: Sendable {
    /// The `since` to ask with next.
    var since: Int64 = 0
    /// The newest head accepted.
    var head: (seq: Int64, time: Date)?
}
