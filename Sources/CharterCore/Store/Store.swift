public import Foundation
public import UCAN

/// Everything Charter persists, behind one contract that SQLite and PostgreSQL both fulfil.
///
/// Every method that changes state takes the audit event describing it and commits both in one
/// transaction: a change is never visible without its record. Stores compute audit hashes with
/// ``AuditChain`` while holding the chain's write lock, so each organization has one unbroken chain.
public protocol Store: SessionStore {
    /// Creates or upgrades the schema with named, forward-only migrations.
    func migrate() async throws

    /// Background upkeep run about once a second, off the request path (SQLite: a WAL checkpoint).
    func checkpoint() async throws

    /// Calls `handler` after every committed change that cached copies depend on, whichever process sharing
    /// the database made it. A store only one process can open (SQLite) has no one else to hear from and
    /// never calls it; the process's own services drop their caches directly.
    func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void)

    /// Releases connections; the store must not be used afterwards.
    func close() async

    /// The number of organizations; zero means `charter init` has not run.
    func organizationCount() async throws -> Int

    /// Creates an organization with its first app and owner key.
    /// - Parameter onlyIfEmpty: when true, does nothing and returns false if any organization exists.
    /// - Returns: whether it was created.
    func createOrganization(
        _ organization: Organization, app: App, ownerKey: APIKey, audit: [AuditEvent], onlyIfEmpty: Bool
    ) async throws -> Bool

    /// The organization with this id.
    func organization(id: String) async throws -> Organization?

    /// Stores a new app.
    /// - Throws: ``CharterError`` `conflict` when the organization already has an app of that name in that environment.
    func createApp(_ app: App, audit: AuditEvent) async throws

    /// The app with this id, if it belongs to `orgID`.
    func app(id: String, orgID: String) async throws -> App?

    /// The organization's apps, oldest first.
    func apps(orgID: String) async throws -> [App]

    /// Stores a new key.
    /// - Throws: ``CharterError`` `conflict` when its app already has a key with that label.
    func createKey(_ key: APIKey, audit: AuditEvent) async throws

    /// The key with this id, if it belongs to `orgID`.
    func key(id: String, orgID: String) async throws -> APIKey?

    /// The key whose plaintext hashes to `secretHash`, whatever its status.
    func key(secretHash: [UInt8]) async throws -> APIKey?

    /// The organization's keys matching `filter`, oldest first.
    func keys(orgID: String, filter: KeyFilter) async throws -> [APIKey]

    /// Replaces a key's mutable fields, if nobody changed it since `expectedVersion`.
    ///
    /// `key.version` must be `expectedVersion + 1`. Usage counters are not touched here.
    /// - Returns: false when the stored version differs (a concurrent change won).
    /// - Throws: ``CharterError`` `conflict` when the new label is taken in the app.
    func updateKey(_ key: APIKey, expectedVersion: Int, audit: AuditEvent) async throws -> Bool

    /// Adds batched usage to keys' counters and moves their last-used times forward.
    func recordUsage(_ usage: [String: KeyUsage]) async throws

    /// Stores a new envelope.
    /// - Throws: ``CharterError`` `conflict` when its app already has an envelope of that name.
    func createEnvelope(_ envelope: Envelope, audit: AuditEvent) async throws
    /// The envelope with this id, if it belongs to `orgID`.
    func envelope(id: String, orgID: String) async throws -> Envelope?
    /// The organization's envelopes, of one app when `appID` is given, oldest first.
    func envelopes(orgID: String, appID: String?) async throws -> [Envelope]
    /// Marks an envelope revoked and appends its feed entry, if it is still active.
    /// - Returns: false, writing nothing, when it is already revoked.
    func revokeEnvelope(_ envelope: Envelope, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool
    /// The longest `maxTTLSeconds` of the organization's envelopes in `environment`; 0 when there is none.
    func longestEnvelopeTTL(orgID: String, environment: Environment) async throws -> Int

    /// Every signing key of every organization, and the shared ones of old databases, oldest first.
    func signingKeys() async throws -> [SigningKeyRecord]
    /// Stores `key` as the active key of its organization and environment, retiring the active one (if any)
    /// until `verifyUntil`.
    /// - Parameter onlyIfNone: when true, stores nothing and returns false if there already is an active key.
    func activateSigningKey(_ key: SigningKeyRecord, retiring verifyUntil: Date, onlyIfNone: Bool, audit: AuditEvent)
        async throws -> Bool

    /// Records minted tokens with their audit events in one transaction (group commit).
    ///
    /// A mint whose envelope or key was revoked after it was checked is refused here, inside the same
    /// transaction that would have recorded it, so no token outlives a revocation that returned first.
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

    /// Appends events that change no other state, such as denied requests.
    func appendAudit(_ events: [AuditEvent]) async throws

    /// One organization's records matching `query`, newest first.
    func auditRecords(orgID: String, query: AuditQuery) async throws -> [AuditRecord]

    /// The organization ids that have an audit chain; nil stands for unattributed events.
    func auditChains() async throws -> [String?]

    /// The highest seq ever handed out, kept apart from the records themselves (SQLite's `sqlite_sequence`,
    /// PostgreSQL's `audit_counter`), so records cut off the end of the trail show; 0 before the first.
    func lastAuditSeq() async throws -> Int64

    /// A chain's records in order, after `seq`, at most `limit` of them.
    func auditChain(orgID: String?, after seq: Int64, limit: Int) async throws -> [AuditRecord]
}

/// A committed change that makes cached copies stale, as one replica tells the others.
public enum StoreChange: Sendable, Hashable {
    /// A key was revoked or edited.
    case key(id: String)
    /// An app's envelopes changed (one was created or revoked).
    case envelopes(appID: String)
    /// A signing key was created or rotated.
    case signingKeys
    /// Changes may have gone unheard (the connection that listens for them was lost): drop every cached copy.
    case all
}

/// Which keys to list.
public struct KeyFilter: Sendable, Hashable {
    public var appID: String?
    public var status: APIKey.Status?
    /// Only keys that expire within this interval from `now` (and have not yet).
    public var expiringWithin: TimeInterval?
    /// The time `status` and `expiringWithin` are judged at.
    public var now: Date

    public init(appID: String? = nil, status: APIKey.Status? = nil, expiringWithin: TimeInterval? = nil, now: Date) {
        self.appID = appID
        self.status = status
        self.expiringWithin = expiringWithin
        self.now = now
    }

    /// Whether `key` passes the filter; stores may pre-filter in SQL but must agree with this.
    public func matches(_ key: APIKey) -> Bool {
        if let appID, key.appID != appID { return false }
        let status = key.status(at: now)
        if let wanted = self.status, status != wanted { return false }
        if let expiringWithin {
            guard status == .active, let expiresAt = key.expiresAt,
                expiresAt <= now.addingTimeInterval(expiringWithin)
            else { return false }
        }
        return true
    }
}

/// Calls counted in memory since the last flush.
public struct KeyUsage: Sendable, Hashable {
    public var count: Int64
    public var lastUsedAt: Date

    public init(count: Int64, lastUsedAt: Date) {
        self.count = count
        self.lastUsedAt = lastUsedAt
    }
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
