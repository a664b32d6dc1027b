public import Foundation

/// A signed-in dashboard session as the store keeps it: found by the SHA-256 of its token, never the token.
public struct DashboardSession: Sendable, Hashable {
    /// The SHA-256 of the session token the browser holds in its cookie.
    public var id: [UInt8]
    /// The stored hash of the API key that signed in, re-authenticated on every request.
    public var keyHash: [UInt8]
    public var keyID: String
    public var organizationID: String
    public var createdAt: Date
    /// When the session was last used, to within ``SessionPolicy/touchInterval``.
    public var lastSeen: Date

    public init(
        id: [UInt8], keyHash: [UInt8], keyID: String, organizationID: String, createdAt: Date, lastSeen: Date
    ) {
        self.id = id
        self.keyHash = keyHash
        self.keyID = keyID
        self.organizationID = organizationID
        self.createdAt = createdAt
        self.lastSeen = lastSeen
    }
}

/// How many dashboard sessions may live at once, and for how long.
///
/// Sign-ins cannot end anyone else's sessions: a key keeps at most ``perKey`` sessions and an organization
/// ``perOrganization``, the oldest of that key or organization ending when a new one would pass its cap;
/// when the store holds ``total`` live sessions, a new sign-in is refused rather than evicting another
/// organization's session.
public struct SessionPolicy: Sendable, Hashable {
    /// Sessions of one key; a key signing in again beyond this ends its own oldest session.
    public var perKey = 20
    /// Sessions of one organization; beyond this the organization's oldest session ends.
    public var perOrganization = 1_000
    /// Live sessions in all (a bound on the table); beyond this new sign-ins are refused.
    public var total = 50_000
    /// A session unused this long is signed out.
    public var idleTimeout: TimeInterval = 30 * 60
    /// No session lives longer than this, however busy.
    public var absoluteTimeout: TimeInterval = 12 * 3600
    /// A session's `lastSeen` is written when it is at least this old, so a busy session costs one write a
    /// minute, not one per page; an idle session therefore ends up to this much before ``idleTimeout``.
    public var touchInterval: TimeInterval = 60

    public init(perKey: Int = 20, perOrganization: Int = 1_000, total: Int = 50_000) {
        self.perKey = perKey
        self.perOrganization = perOrganization
        self.total = total
    }

    /// Sessions last seen before `lastSeen`, or started before `createdAt`, have ended at `now`.
    public func cutoffs(at now: Date) -> (lastSeen: Date, createdAt: Date) {
        (now.addingTimeInterval(-idleTimeout), now.addingTimeInterval(-absoluteTimeout))
    }

    /// Whether `session` has ended at `now`: the rule every store's SQL applies too.
    public func hasEnded(_ session: DashboardSession, at now: Date) -> Bool {
        let cutoffs = cutoffs(at: now)
        return session.lastSeen < cutoffs.lastSeen || session.createdAt < cutoffs.createdAt
    }
}

/// Where dashboard sessions live, so any replica serves a signed-in user.
public protocol SessionStore: Sendable {
    /// Stores `session` within `policy`'s caps: first the ended sessions of its key and organization go, then
    /// their oldest (by `createdAt`; sessions started in the same millisecond in either order) beyond the
    /// caps. Sign-ins are serialized, so concurrent ones cannot pass a cap together.
    /// - Returns: false, storing and ending nothing, when `policy.total` live sessions are already stored.
    func startSession(_ session: DashboardSession, policy: SessionPolicy, at now: Date) async throws -> Bool

    /// The stored session with this id, ended or not: the caller judges with ``SessionPolicy/hasEnded(_:at:)``.
    func session(id: [UInt8]) async throws -> DashboardSession?

    /// Moves a session's `lastSeen` forward to `time` (never back).
    func touchSession(id: [UInt8], at time: Date) async throws

    /// Deletes the session, if it is stored.
    func endSession(id: [UInt8]) async throws

    /// How many sessions of the key with this id are stored, live or not yet swept.
    func sessionCount(keyID: String) async throws -> Int
}
