import CharterCore
import Foundation
import UCAN

/// Signed-in dashboard sessions, kept in the store so that any replica serves a signed-in user.
///
/// A session holds the hash of the API key that signed in, never the key, and every request re-authenticates
/// that hash with the same checks as the API: a key revoked, expired or narrowed takes effect on the
/// session's next page. Session tokens are 256 random bits, stored only as their SHA-256 and found by that
/// hash. Each session's CSRF token is derived from its session token, so it is never stored and a copy of the
/// database yields neither. Caps and timeouts are ``SessionPolicy``'s.
struct DashboardSessions: Sendable {
    /// A live session and the CSRF token its forms carry.
    struct Session: Sendable {
        let stored: DashboardSession
        let csrf: String
    }

    static let cookie = "charter_session"

    let store: any SessionStore
    let clock: CharterClock
    let policy: SessionPolicy

    init(store: any SessionStore, clock: CharterClock, policy: SessionPolicy = SessionPolicy()) {
        self.store = store
        self.clock = clock
        self.policy = policy
    }

    /// Starts a session for the key whose hash is `keyHash`; returns the cookie value, or nil when the store is
    /// full of live sessions of other keys and organizations.
    func start(keyHash: [UInt8], keyID: String, organizationID: String) async throws -> String? {
        let token = Base64URL.encode(SecureBytes.random(count: 32))
        let now = clock.now()
        let session = DashboardSession(
            id: Self.id(of: token), keyHash: keyHash, keyID: keyID, organizationID: organizationID, createdAt: now,
            lastSeen: now)
        return try await store.startSession(session, policy: policy, at: now) ? token : nil
    }

    /// The live session a cookie value names; its idle timer restarts, written at most once a
    /// ``SessionPolicy/touchInterval``. An ended session is deleted.
    func session(_ token: String) async throws -> Session? {
        let id = Self.id(of: token)
        guard let stored = try await store.session(id: id) else { return nil }
        let now = clock.now()
        if policy.hasEnded(stored, at: now) {
            try await store.endSession(id: id)
            return nil
        }
        if now.timeIntervalSince(stored.lastSeen) >= policy.touchInterval {
            try await store.touchSession(id: id, at: now)
        }
        return Session(stored: stored, csrf: Self.csrf(of: token))
    }

    func end(_ token: String) async throws {
        try await store.endSession(id: Self.id(of: token))
    }

    /// What the store finds a session by.
    static func id(of token: String) -> [UInt8] { SHA256.hash(Array(token.utf8)) }

    /// The CSRF token of the session `token` names: a hash of the token under its own label, so it can be
    /// shown in pages without revealing the session token, and cannot be computed from the stored id.
    static func csrf(of token: String) -> String {
        Base64URL.encode(SHA256.hash(Array("charter dashboard csrf\0\(token)".utf8)))
    }
}
