public import Foundation
public import UCAN

/// Minted tokens and the revocation feed.
public protocol TokenStore: Sendable {
    /// Records minted tokens with their audit events in one transaction (group commit).
    ///
    /// A mint whose envelope or key was revoked after it was checked is refused here: the store checks them again
    /// and commits the records with no revocation (no audited write) committed in between, so no token outlives a
    /// revocation that returned first.
    /// - Returns: one outcome per mint, in order.
    func recordMints(_ mints: [Mint]) async throws -> [Mint.Outcome]
    /// The minted token with this CID, if it belongs to `orgID`.
    func mintedToken(cid: CID, orgID: String) async throws -> MintedToken?
    /// Marks a minted token revoked and appends its feed entry, if it is not revoked yet.
    /// - Returns: false, writing nothing, when it already is.
    func revokeToken(_ token: MintedToken, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool
    /// One organization's feed entries in `environment` after `seq`, in order, at most `limit`, leaving out those
    /// whose tokens have all expired; and, read in the same snapshot, the highest seq any feed has handed out.
    /// Every entry up to that seq is visible: a page that lists fewer than `limit` is complete up to it.
    func revocations(
        orgID: String, environment: Environment, after seq: Int64, limit: Int, coveringAfter now: Date
    ) async throws -> (entries: [RevocationEntry], latest: Int64)
    /// Deletes feed entries and minted-token records nothing can use any more: all covered tokens expired before
    /// `date`. The highest seq handed out stays known (feed heads never move backwards).
    func prune(expiredBefore date: Date) async throws
}

/// A token to record, with the audit event of its minting.
public struct Mint: Sendable {
    public var token: MintedToken
    public var audit: AuditEvent

    public init(token: MintedToken, audit: AuditEvent) {
        self.token = token
        self.audit = audit
    }

    public enum Outcome: Sendable, Hashable {
        case recorded
        case envelopeRevoked
        case keyRevoked
    }
}
