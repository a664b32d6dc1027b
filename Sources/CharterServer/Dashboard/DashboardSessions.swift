import CharterCore
import Foundation
import Synchronization
import UCAN

/// Signed-in dashboard sessions, in this process's memory.
///
/// A session holds the hash of the API key that signed in, never the key, and every request re-authenticates
/// that hash with the same checks as the API: a key revoked, expired or narrowed takes effect on the
/// session's next page. Session tokens are 256 random bits, kept here only as their SHA-256, and compared
/// by hash lookup; each session has its own CSRF token for its forms.
final class DashboardSessions: Sendable {
    struct Session: Sendable {
        let keyHash: [UInt8]
        let csrf: String
        var lastSeen: Date
        let createdAt: Date
    }

    static let cookie = "charter_session"
    /// A session unused this long is signed out.
    static let idleTimeout: TimeInterval = 30 * 60
    /// No session lives longer than this, however busy.
    static let absoluteTimeout: TimeInterval = 12 * 3600
    static let limit = 10_000

    private let sessions = Mutex<[[UInt8]: Session]>([:])

    /// Starts a session for the key whose hash is `keyHash`; returns the cookie value.
    func start(keyHash: [UInt8], at now: Date) -> String {
        let token = Self.randomToken()
        let session = Session(keyHash: keyHash, csrf: Self.randomToken(), lastSeen: now, createdAt: now)
        sessions.withLock { sessions in
            if sessions.count >= Self.limit {
                sessions = sessions.filter { !Self.expired($0.value, at: now) }
                if sessions.count >= Self.limit,
                    let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })
                {
                    sessions.removeValue(forKey: oldest.key)
                }
            }
            sessions[SHA256.hash(Array(token.utf8))] = session
        }
        return token
    }

    /// The live session a cookie value names, its idle timer restarted.
    func session(_ token: String, at now: Date) -> Session? {
        let id = SHA256.hash(Array(token.utf8))
        return sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard !Self.expired(session, at: now) else {
                sessions.removeValue(forKey: id)
                return nil
            }
            session.lastSeen = now
            sessions[id] = session
            return session
        }
    }

    func end(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: SHA256.hash(Array(token.utf8))) }
    }

    private static func expired(_ session: Session, at now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) > idleTimeout
            || now.timeIntervalSince(session.createdAt) > absoluteTimeout
    }

    private static func randomToken() -> String {
        Base64URL.encode(SecureBytes.random(count: 32))
    }
}
