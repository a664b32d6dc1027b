public import Foundation

/// API keys and their usage counters.
public protocol KeyStore: Sendable {
    /// Stores a new key.
    /// - Throws: ``CharterError`` `conflict` when its app already has a key with that label.
    func createKey(_ key: APIKey, audit: AuditEvent) async throws

    /// The key with this id, if it belongs to `orgID`.
    func key(id: String, orgID: String) async throws -> APIKey?

    /// The key whose plaintext hashes to `secretHash`, whatever its status.
    func key(secretHash: [UInt8]) async throws -> APIKey?

    /// The organization's keys matching `filter`, oldest first.
    func keys(orgID: String, filter: KeyFilter) async throws -> [APIKey]

    /// Those of the keys with these ids that belong to `orgID`, in no particular order.
    func keys(ids: Set<String>, orgID: String) async throws -> [APIKey]

    /// Replaces a key's mutable fields, if nobody changed it since `expectedVersion`.
    ///
    /// `key.version` must be `expectedVersion + 1`. Usage counters are not touched here.
    /// - Returns: false when the stored version differs (a concurrent change won).
    /// - Throws: ``CharterError`` `conflict` when the new label is taken in the app.
    func updateKey(_ key: APIKey, expectedVersion: Int, audit: AuditEvent) async throws -> Bool

    /// Adds batched usage to keys' counters and moves their last-used times forward.
    func recordUsage(_ usage: [String: KeyUsage]) async throws
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
