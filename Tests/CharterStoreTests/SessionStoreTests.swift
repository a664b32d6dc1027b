import CharterCore
import Foundation
import Testing
import UCAN

/// Dashboard sessions' caps and timeouts, against every store, with small caps so a flood is a few dozen
/// sign-ins: a key or an organization signing in again and again ends only its own sessions, and a full
/// store refuses rather than evicts.
@Suite struct SessionStoreTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A session of key `key` of organization `org`, started `second` seconds after ``start``.
    static func session(_ key: String, of org: String, at second: Int = 0) -> DashboardSession {
        let time = start.addingTimeInterval(Double(second))
        return DashboardSession(
            id: SecureBytes.random(count: 32), keyHash: SHA256.hash(Array(key.utf8)), keyID: key,
            organizationID: org, createdAt: time, lastSeen: time)
    }

    /// Signs in key `key` of organization `org` at `second`; returns the session's id, or nil when refused.
    static func signIn(
        _ store: any SessionStore, _ key: String, of org: String, at second: Int = 0,
        policy: SessionPolicy = SessionPolicy()
    ) async throws -> [UInt8]? {
        let session = session(key, of: org, at: second)
        let started = try await store.startSession(session, policy: policy, at: session.createdAt)
        return started ? session.id : nil
    }

    static func stored(_ store: any SessionStore, _ id: [UInt8]) async throws -> Bool {
        try await store.session(id: id) != nil
    }

    @Test(arguments: StoreFactory.all)
    func aSessionRoundTripsAndEnds(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let session = Self.session("key_1", of: "org_a")
            #expect(try await store.startSession(session, policy: SessionPolicy(), at: Self.start))
            #expect(try await store.session(id: session.id) == session)
            #expect(try await store.session(id: SHA256.hash(session.id)) == nil)

            try await store.touchSession(id: session.id, at: Self.start.addingTimeInterval(90))
            try await store.touchSession(id: session.id, at: Self.start.addingTimeInterval(30))
            #expect(
                try await store.session(id: session.id)?.lastSeen == Self.start.addingTimeInterval(90), "never back")

            try await store.endSession(id: session.id)
            #expect(try await store.session(id: session.id) == nil)
            #expect(try await store.sessionCount(keyID: "key_1") == 0, "an ended session leaves no trace")
        }
    }

    @Test(arguments: StoreFactory.all)
    func aFloodFromOneOrganizationEndsOnlyThatOrganizationsSessions(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let policy = SessionPolicy(perKey: 3, perOrganization: 6, total: 12)
            let victim = try #require(try await Self.signIn(store, "key_a1", of: "org_a", policy: policy))
            let colleague = try #require(try await Self.signIn(store, "key_a2", of: "org_a", policy: policy))
            var flood: [[UInt8]] = []
            for n in 1...40 {
                let id = try await Self.signIn(store, "key_b\(n % 10)", of: "org_b", at: n, policy: policy)
                flood.append(try #require(id, "sign-in \(n)"))
            }
            #expect(try await Self.stored(store, victim))
            #expect(try await Self.stored(store, colleague))
            var alive: [[UInt8]] = []
            for id in flood where try await Self.stored(store, id) { alive.append(id) }
            #expect(alive == Array(flood.suffix(6)), "org_b keeps its cap, its newest sessions")
            for n in 0..<10 { #expect(try await store.sessionCount(keyID: "key_b\(n)") <= 3) }
        }
    }

    @Test(arguments: StoreFactory.all)
    func aKeysSignInBeyondItsCapEndsItsOwnOldestSession(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let other = try #require(try await Self.signIn(store, "key_2", of: "org_a"))
            var mine: [[UInt8]] = []
            for second in 1...21 {
                mine.append(try #require(try await Self.signIn(store, "key_1", of: "org_a", at: second)))
            }
            #expect(try await store.sessionCount(keyID: "key_1") == 20)
            #expect(try await !Self.stored(store, mine[0]), "the first is gone")
            for id in mine.dropFirst() { #expect(try await Self.stored(store, id)) }
            #expect(try await Self.stored(store, other))
        }
    }

    @Test(arguments: StoreFactory.all)
    func aFullStoreRefusesANewOrganizationUntilSessionsEnd(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let policy = SessionPolicy(perKey: 2, perOrganization: 2, total: 4)
            var held: [[UInt8]] = []
            for (second, (key, org)) in [
                ("key_a1", "org_a"), ("key_a2", "org_a"), ("key_b1", "org_b"), ("key_b2", "org_b"),
            ]
            .enumerated() {
                held.append(try #require(try await Self.signIn(store, key, of: org, at: second, policy: policy)))
            }
            #expect(try await Self.signIn(store, "key_c1", of: "org_c", at: 4, policy: policy) == nil)
            for id in held { #expect(try await Self.stored(store, id), "refused, evicting no one") }

            // An organization at its own cap still cycles its own sessions.
            #expect(try await Self.signIn(store, "key_a1", of: "org_a", at: 5, policy: policy) != nil)
            #expect(try await !Self.stored(store, held[0]))
            #expect(try await Self.stored(store, held[2]))

            let idle = Int(policy.idleTimeout) + 10
            #expect(
                try await Self.signIn(store, "key_c1", of: "org_c", at: idle, policy: policy) != nil,
                "ended sessions make room")
        }
    }

    @Test(arguments: StoreFactory.all)
    func aRefusedSignInEndsNoSessionOfItsOwnOrganization(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let policy = SessionPolicy(perKey: 1, perOrganization: 1, total: 2)
            let a = try #require(try await Self.signIn(store, "key_a1", of: "org_a", policy: policy))
            let b = try #require(try await Self.signIn(store, "key_b1", of: "org_b", policy: policy))
            // org_a's own cap would end its one session, but the store is still full of live ones: refused,
            // and the deletion is rolled back with it.
            let tight = SessionPolicy(perKey: 1, perOrganization: 1, total: 1)
            #expect(try await Self.signIn(store, "key_a2", of: "org_a", at: 1, policy: tight) == nil)
            #expect(try await Self.stored(store, a))
            #expect(try await Self.stored(store, b))
        }
    }

    @Test func theEndRuleCountsIdleTimeAndAge() {
        let policy = SessionPolicy()
        var session = Self.session("key_1", of: "org_a")
        #expect(!policy.hasEnded(session, at: Self.start.addingTimeInterval(policy.idleTimeout)))
        #expect(policy.hasEnded(session, at: Self.start.addingTimeInterval(policy.idleTimeout + 0.001)))
        session.lastSeen = Self.start.addingTimeInterval(policy.absoluteTimeout)
        #expect(!policy.hasEnded(session, at: Self.start.addingTimeInterval(policy.absoluteTimeout)))
        #expect(
            policy.hasEnded(session, at: Self.start.addingTimeInterval(policy.absoluteTimeout + 0.001)), "busy, but old"
        )
    }
}
