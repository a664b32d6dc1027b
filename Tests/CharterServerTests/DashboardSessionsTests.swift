import CharterCore
import CharterSQLite
import Foundation
import Testing
import UCAN

@testable import CharterServer

/// What the dashboard adds to the stored sessions: tokens kept only as hashes, CSRF tokens derived rather
/// than stored, and a last-seen time written at most once a minute. The caps are the store's
/// (SessionStoreTests).
@Suite struct DashboardSessionsTests {
    /// Sessions on a fresh SQLite file, on a clock the test moves.
    struct Fixture {
        let directory: URL
        let store: SQLiteStore
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
        let sessions: DashboardSessions

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStore(path: directory.appendingPathComponent("charter.db").path)
            try await store.migrate()
            sessions = DashboardSessions(store: store, clock: clock.clock)
        }

        func signIn(_ key: String = "key_1") async throws -> String {
            try #require(
                try await sessions.start(keyHash: SHA256.hash(Array(key.utf8)), keyID: key, organizationID: "org_a"))
        }

        func stored(_ token: String) async throws -> DashboardSession? {
            try await store.session(id: DashboardSessions.id(of: token))
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func lastSeenIsWrittenAtMostOnceAMinute() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let token = try await fixture.signIn()
        let started = fixture.clock.now

        fixture.clock.advance(59)
        #expect(try await fixture.sessions.session(token) != nil)
        #expect(try await fixture.stored(token)?.lastSeen == started, "not written within the minute")

        fixture.clock.advance(1)
        #expect(try await fixture.sessions.session(token) != nil)
        #expect(try await fixture.stored(token)?.lastSeen == fixture.clock.now)
    }

    @Test func anIdleSessionEndsAndIsDeleted() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let token = try await fixture.signIn()
        let policy = fixture.sessions.policy

        fixture.clock.advance(policy.idleTimeout)
        #expect(try await fixture.sessions.session(token) != nil, "used just in time: its timer restarts")
        fixture.clock.advance(policy.idleTimeout + 1)
        #expect(try await fixture.sessions.session(token) == nil)
        #expect(try await fixture.stored(token) == nil)
    }

    @Test func theDatabaseHoldsNeitherTheSessionTokenNorItsCSRFToken() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let first = try await fixture.signIn()
        let second = try await fixture.signIn()
        let csrf = try #require(try await fixture.sessions.session(first)?.csrf)
        #expect(csrf == DashboardSessions.csrf(of: first))
        #expect(try await fixture.sessions.session(second)?.csrf != csrf, "each session has its own")
        #expect(csrf != first && csrf != Base64URL.encode(DashboardSessions.id(of: first)))

        let bytes = try FileManager.default.contentsOfDirectory(at: fixture.directory, includingPropertiesForKeys: nil)
            .reduce(into: Data()) { data, file in data += try Data(contentsOf: file) }
        for secret in [first, csrf] {
            for form in [Data(secret.utf8), Data(Base64URL.decode(secret) ?? [])] {
                #expect(bytes.range(of: form) == nil, "no session secret at rest")
            }
        }
        #expect(bytes.range(of: Data(DashboardSessions.id(of: first))) != nil, "the hash is what is stored")
    }
}
