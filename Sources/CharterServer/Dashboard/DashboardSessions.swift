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
///
/// Sign-ins cannot end anyone else's sessions: a key keeps at most ``Limits/perKey`` sessions and an
/// organization ``Limits/perOrganization``, the oldest of that key or organization ending when a new one
/// would pass its cap; when the whole table is full, a new sign-in is refused rather than evicting another
/// organization's session.
final class DashboardSessions: Sendable {
    struct Session: Sendable {
        let keyHash: [UInt8]
        let keyID: String
        let organizationID: String
        let csrf: String
        var lastSeen: Date
        let createdAt: Date
    }

    /// How many sessions may live at once.
    struct Limits: Sendable {
        /// Sessions of one key; a key signing in again beyond this ends its own oldest session.
        var perKey = 20
        /// Sessions of one organization; beyond this the organization's oldest session ends.
        var perOrganization = 1_000
        /// Sessions in all (a bound on memory); beyond this new sign-ins are refused.
        var total = 50_000
    }

    static let cookie = "charter_session"
    /// A session unused this long is signed out.
    static let idleTimeout: TimeInterval = 30 * 60
    /// No session lives longer than this, however busy.
    static let absoluteTimeout: TimeInterval = 12 * 3600

    let limits: Limits
    private let table = Mutex(Table())

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Starts a session for the key whose hash is `keyHash`; returns the cookie value, or nil when the table is
    /// full of live sessions of other keys and organizations.
    func start(keyHash: [UInt8], keyID: String, organizationID: String, at now: Date) -> String? {
        let token = Self.randomToken()
        let session = Session(
            keyHash: keyHash, keyID: keyID, organizationID: organizationID, csrf: Self.randomToken(), lastSeen: now,
            createdAt: now)
        let limits = self.limits
        let started = table.withLock { table in
            table.makeRoom(in: \.byKey, for: keyID, cap: limits.perKey, at: now)
            table.makeRoom(in: \.byOrganization, for: organizationID, cap: limits.perOrganization, at: now)
            if table.sessions.count >= limits.total {
                table.removeExpired(at: now)
                guard table.sessions.count < limits.total else { return false }
            }
            table.insert(session, id: SHA256.hash(Array(token.utf8)))
            return true
        }
        return started ? token : nil
    }

    /// The live session a cookie value names, its idle timer restarted.
    func session(_ token: String, at now: Date) -> Session? {
        let id = SHA256.hash(Array(token.utf8))
        return table.withLock { table in
            guard var session = table.sessions[id] else { return nil }
            guard !Self.expired(session, at: now) else {
                table.remove(id)
                return nil
            }
            session.lastSeen = now
            table.sessions[id] = session
            return session
        }
    }

    func end(_ token: String) {
        table.withLock { $0.remove(SHA256.hash(Array(token.utf8))) }
    }

    /// How many sessions the key with this id has, live or not yet swept.
    func count(keyID: String) -> Int {
        table.withLock { $0.byKey[keyID]?.count ?? 0 }
    }

    fileprivate static func expired(_ session: Session, at now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeen) > idleTimeout
            || now.timeIntervalSince(session.createdAt) > absoluteTimeout
    }

    private static func randomToken() -> String {
        Base64URL.encode(SecureBytes.random(count: 32))
    }
}

/// The sessions by id, with each key's and each organization's session ids in the order they started, so a
/// cap is enforced by looking at one key's or one organization's sessions, never by scanning them all.
private struct Table {
    typealias ID = [UInt8]

    var sessions: [ID: DashboardSessions.Session] = [:]
    var byKey: [String: [ID]] = [:]
    var byOrganization: [String: [ID]] = [:]

    mutating func insert(_ session: DashboardSessions.Session, id: ID) {
        sessions[id] = session
        byKey[session.keyID, default: []].append(id)
        byOrganization[session.organizationID, default: []].append(id)
    }

    mutating func remove(_ id: ID) {
        guard let session = sessions.removeValue(forKey: id) else { return }
        Self.drop(id, from: &byKey, at: session.keyID)
        Self.drop(id, from: &byOrganization, at: session.organizationID)
    }

    /// Leaves `owner` (a key or an organization) fewer than `cap` sessions: its expired ones go first, then
    /// its oldest.
    mutating func makeRoom(
        in index: WritableKeyPath<Table, [String: [ID]]>, for owner: String, cap: Int, at now: Date
    ) {
        guard let ids = self[keyPath: index][owner], ids.count >= cap else { return }
        for id in ids where sessions[id].map({ DashboardSessions.expired($0, at: now) }) == true {
            remove(id)
        }
        // Every id in an index names a session (insert and remove keep the three in step), so each pass
        // shortens the list.
        while let ids = self[keyPath: index][owner], ids.count >= cap {
            remove(ids[0])
        }
    }

    mutating func removeExpired(at now: Date) {
        for (id, session) in sessions where DashboardSessions.expired(session, at: now) {
            remove(id)
        }
    }

    private static func drop(_ id: ID, from index: inout [String: [ID]], at owner: String) {
        guard var ids = index[owner] else { return }
        ids.removeAll { $0 == id }
        index[owner] = ids.isEmpty ? nil : ids
    }
}
