import Foundation
import Testing

@testable import CharterServer

/// The session table's caps, with small limits so a flood is a few dozen sign-ins: a key or an organization
/// signing in again and again ends only its own sessions, and a full table refuses rather than evicts.
@Suite struct DashboardSessionsTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Signs in key `key` of organization `org`, `second` seconds after ``start``.
    static func signIn(_ sessions: DashboardSessions, _ key: String, of org: String, at second: Int = 0) -> String? {
        sessions.start(
            keyHash: Array(key.utf8), keyID: key, organizationID: org, at: start.addingTimeInterval(Double(second)))
    }

    static func alive(_ sessions: DashboardSessions, _ token: String?, at second: Int = 0) -> Bool {
        token.flatMap { sessions.session($0, at: start.addingTimeInterval(Double(second))) } != nil
    }

    @Test func aFloodFromOneOrganizationEndsOnlyThatOrganizationsSessions() throws {
        let sessions = DashboardSessions(limits: .init(perKey: 3, perOrganization: 6, total: 12))
        let victim = try #require(Self.signIn(sessions, "key_a1", of: "org_a"))
        let colleague = try #require(Self.signIn(sessions, "key_a2", of: "org_a"))
        var flood: [String] = []
        for n in 1...200 {
            flood.append(try #require(Self.signIn(sessions, "key_b\(n % 10)", of: "org_b", at: n), "sign-in \(n)"))
        }
        #expect(Self.alive(sessions, victim, at: 201) && Self.alive(sessions, colleague, at: 201))
        #expect(flood.filter { Self.alive(sessions, $0, at: 201) }.count == 6, "org_b keeps its cap, no more")
        #expect(flood.suffix(6).allSatisfy { Self.alive(sessions, $0, at: 201) }, "its newest sessions")
        #expect((0..<10).map { sessions.count(keyID: "key_b\($0)") }.allSatisfy { $0 <= 3 })
    }

    @Test func aKeysSignInBeyondItsCapEndsItsOwnOldestSession() throws {
        let sessions = DashboardSessions()
        let other = try #require(Self.signIn(sessions, "key_2", of: "org_a"))
        let mine = try (1...21).map { try #require(Self.signIn(sessions, "key_1", of: "org_a", at: $0)) }
        #expect(sessions.count(keyID: "key_1") == 20)
        #expect(!Self.alive(sessions, mine[0], at: 22), "the first is gone")
        #expect(mine.dropFirst().allSatisfy { Self.alive(sessions, $0, at: 22) })
        #expect(Self.alive(sessions, other, at: 22))
    }

    @Test func aFullTableRefusesANewOrganizationUntilSessionsExpire() throws {
        let sessions = DashboardSessions(limits: .init(perKey: 2, perOrganization: 2, total: 4))
        let held = try [("key_a1", "org_a"), ("key_a2", "org_a"), ("key_b1", "org_b"), ("key_b2", "org_b")].map {
            try #require(Self.signIn(sessions, $0.0, of: $0.1))
        }
        #expect(Self.signIn(sessions, "key_c1", of: "org_c", at: 1) == nil, "refused, evicting no one")
        #expect(held.allSatisfy { Self.alive(sessions, $0, at: 2) })

        // An organization at its own cap still cycles its own sessions.
        #expect(Self.signIn(sessions, "key_a1", of: "org_a", at: 3) != nil)
        #expect(!Self.alive(sessions, held[0], at: 4) && Self.alive(sessions, held[2], at: 4))

        let idle = Int(DashboardSessions.idleTimeout) + 10
        #expect(Self.signIn(sessions, "key_c1", of: "org_c", at: idle) != nil, "expired sessions make room")
    }

    @Test func sessionsStillEndWhenIdleOrOld() throws {
        let sessions = DashboardSessions()
        let idle = try #require(Self.signIn(sessions, "key_1", of: "org_a"))
        #expect(Self.alive(sessions, idle, at: Int(DashboardSessions.idleTimeout) - 1))
        #expect(!Self.alive(sessions, idle, at: 2 * Int(DashboardSessions.idleTimeout) + 10))

        let busy = try #require(Self.signIn(sessions, "key_1", of: "org_a"))
        let step = Int(DashboardSessions.idleTimeout) / 2
        var second = 0
        while second + step <= Int(DashboardSessions.absoluteTimeout) {
            second += step
            #expect(Self.alive(sessions, busy, at: second))
        }
        #expect(!Self.alive(sessions, busy, at: Int(DashboardSessions.absoluteTimeout) + 1))
        #expect(sessions.count(keyID: "key_1") == 0, "an ended session leaves no trace")
    }
}
