import CharterCore
import CharterSQLite
import Foundation
import Testing
import UCAN

/// One store implementation under test; the PostgreSQL store joins this list when it exists.
struct StoreFactory: Sendable, CustomStringConvertible {
    let description: String
    let make: @Sendable () async throws -> any Store

    static let sqlite = StoreFactory(description: "SQLite") {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "charter-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("charter.db").path)
        try await store.migrate()
        return store
    }

    static let all = [sqlite]
}

/// The contract every store must keep, run against each real store.
@Suite struct StoreContractTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000.123)

    func organization(_ store: any Store, name: String = "Acme", onlyIfEmpty: Bool = false) async throws -> (
        Organization, App, APIKey
    ) {
        let org = Organization(name: name, createdAt: now)
        let app = App(orgID: org.id, name: "console", environment: .live, createdAt: now, createdBy: nil)
        let secret = APIKeySecret.generate(for: .live)
        let key = APIKey(
            orgID: org.id, appID: app.id, environment: .live, label: "owner", prefix: secret.display, role: .owner,
            permissions: Role.owner.permissions, secretHash: secret.hash, createdAt: now, createdBy: nil)
        let event = AuditEvent(time: now, orgID: org.id, keyID: nil, action: "org.create", outcome: .success)
        #expect(
            try await store.createOrganization(org, app: app, ownerKey: key, audit: [event], onlyIfEmpty: onlyIfEmpty))
        return (org, app, key)
    }

    func event(_ action: String, org: String?, key: String? = nil) -> AuditEvent {
        AuditEvent(time: now, orgID: org, keyID: key, action: action, outcome: .success, details: ["n": 1])
    }

    func newKey(_ org: Organization, _ app: App, label: String, expiresAt: Date? = nil) -> APIKey {
        let secret = APIKeySecret.generate(for: app.environment)
        return APIKey(
            orgID: org.id, appID: app.id, environment: app.environment, label: label, prefix: secret.display,
            role: nil, permissions: [.keysRead, .auditRead], secretHash: secret.hash, createdAt: now,
            createdBy: "key_x",
            expiresAt: expiresAt, ipAllowlist: [try! CIDR("10.0.0.0/8"), try! CIDR("2001:db8::/32")],
            allowedEndpoints: ["/v1/me", "/v1/keys*"], rateLimitPerMinute: 120)
    }

    func chainIntact(_ store: any Store, _ orgID: String?) async throws -> AuditChain.Break? {
        AuditChain.verify(try await store.auditChain(orgID: orgID, after: 0, limit: 100_000), after: AuditChain.genesis)
            .0
    }

    @Test(arguments: StoreFactory.all)
    func initializationHappensOnce(factory: StoreFactory) async throws {
        let store = try await factory.make()
        try await store.migrate()
        #expect(try await store.organizationCount() == 0)
        let (org, _, _) = try await organization(store, onlyIfEmpty: true)
        #expect(try await store.organizationCount() == 1)
        let records = try await store.auditChain(orgID: org.id, after: 0, limit: 100).count
        let again = Organization(name: "Second", createdAt: now)
        let app = App(orgID: again.id, name: "console", environment: .live, createdAt: now, createdBy: nil)
        let secret = APIKeySecret.generate(for: .live)
        let key = APIKey(
            orgID: again.id, appID: app.id, environment: .live, label: "owner", prefix: secret.display, role: .owner,
            permissions: Role.owner.permissions, secretHash: secret.hash, createdAt: now, createdBy: nil)
        #expect(
            !(try await store.createOrganization(
                again, app: app, ownerKey: key, audit: [event("org.create", org: again.id)], onlyIfEmpty: true)))
        #expect(try await store.organizationCount() == 1)
        #expect(try await store.auditChains() == [org.id])
        #expect(try await store.auditChain(orgID: org.id, after: 0, limit: 100).count == records)
        #expect(try await store.organization(id: org.id)?.name == "Acme")
        #expect(try await store.organization(id: again.id) == nil)
    }

    @Test(arguments: StoreFactory.all)
    func appsAreScopedAndUnique(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, console, _) = try await organization(store)
        let (other, _, _) = try await organization(store, name: "Other")
        let app = App(orgID: org.id, name: "billing", environment: .test, createdAt: now, createdBy: "key_1")
        try await store.createApp(app, audit: event("app.create", org: org.id))
        #expect(try await store.app(id: app.id, orgID: org.id) == app)
        #expect(try await store.app(id: app.id, orgID: other.id) == nil)
        #expect(try await store.apps(orgID: org.id).map(\.id).sorted() == [console.id, app.id].sorted())
        let before = try await store.auditChain(orgID: org.id, after: 0, limit: 100).count
        let duplicate = App(orgID: org.id, name: "billing", environment: .test, createdAt: now, createdBy: nil)
        let error = await #expect(throws: CharterError.self) {
            try await store.createApp(duplicate, audit: event("app.create", org: org.id))
        }
        #expect(error?.code == .conflict)
        #expect(
            try await store.auditChain(orgID: org.id, after: 0, limit: 100).count == before,
            "no record for a failed write")
        try await store.createApp(
            App(orgID: org.id, name: "billing", environment: .live, createdAt: now, createdBy: nil),
            audit: event("app.create", org: org.id))
    }

    @Test(arguments: StoreFactory.all)
    func keysRoundTripExactlyAndAreScoped(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, app, owner) = try await organization(store)
        let (other, _, _) = try await organization(store, name: "Other")
        let key = newKey(org, app, label: "ci", expiresAt: now.addingTimeInterval(86_400))
        try await store.createKey(key, audit: event("key.create", org: org.id))
        #expect(try await store.key(id: key.id, orgID: org.id) == key)
        #expect(try await store.key(secretHash: key.secretHash) == key)
        #expect(try await store.key(secretHash: owner.secretHash) == owner)
        #expect(try await store.key(id: key.id, orgID: other.id) == nil)
        #expect(try await store.key(secretHash: SHA256.hash([1])) == nil)
        let clash = newKey(org, app, label: "ci")
        #expect(
            (await #expect(throws: CharterError.self) {
                try await store.createKey(clash, audit: event("key.create", org: org.id))
            })?.code == .conflict)
        let billing = App(orgID: org.id, name: "billing", environment: .test, createdAt: now, createdBy: nil)
        try await store.createApp(billing, audit: event("app.create", org: org.id))
        try await store.createKey(newKey(org, billing, label: "ci"), audit: event("key.create", org: org.id))
    }

    @Test(arguments: StoreFactory.all)
    func listingsFilterLikeKeyFilter(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, app, _) = try await organization(store)
        let soon = newKey(org, app, label: "soon", expiresAt: now.addingTimeInterval(3600))
        let late = newKey(org, app, label: "late", expiresAt: now.addingTimeInterval(30 * 86_400))
        var gone = newKey(org, app, label: "gone")
        let past = newKey(org, app, label: "past", expiresAt: now.addingTimeInterval(-1))
        for key in [soon, late, gone, past] { try await store.createKey(key, audit: event("key.create", org: org.id)) }
        gone.revokedAt = now
        gone.revokedBy = "key_x"
        gone.version = 2
        #expect(try await store.updateKey(gone, expectedVersion: 1, audit: event("key.revoke", org: org.id)))
        func labels(_ filter: KeyFilter) async throws -> Set<String> {
            Set(try await store.keys(orgID: org.id, filter: filter).map(\.label))
        }
        #expect(try await labels(KeyFilter(status: .revoked, now: now)) == ["gone"])
        #expect(try await labels(KeyFilter(status: .expired, now: now)) == ["past"])
        #expect(try await labels(KeyFilter(status: .active, now: now)) == ["owner", "soon", "late"])
        #expect(try await labels(KeyFilter(expiringWithin: 86_400, now: now)) == ["soon"])
        #expect(try await labels(KeyFilter(appID: "app_nope", now: now)).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func updatesAreCompareAndSwap(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, app, _) = try await organization(store)
        let (other, _, _) = try await organization(store, name: "Other")
        var key = newKey(org, app, label: "a")
        try await store.createKey(key, audit: event("key.create", org: org.id))
        key.label = "b"
        key.version = 2
        #expect(try await store.updateKey(key, expectedVersion: 1, audit: event("key.update", org: org.id)))
        var stale = key
        stale.label = "c"
        stale.version = 2
        let records = try await store.auditChain(orgID: org.id, after: 0, limit: 100).count
        #expect(!(try await store.updateKey(stale, expectedVersion: 1, audit: event("key.update", org: org.id))))
        #expect(try await store.key(id: key.id, orgID: org.id)?.label == "b")
        #expect(try await store.auditChain(orgID: org.id, after: 0, limit: 100).count == records)
        var foreign = key
        foreign.orgID = other.id
        foreign.version = 3
        #expect(!(try await store.updateKey(foreign, expectedVersion: 2, audit: event("key.update", org: other.id))))
    }

    @Test(arguments: StoreFactory.all)
    func usageAddsUpAndLastUsedOnlyMovesForward(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, _, owner) = try await organization(store)
        try await store.recordUsage([owner.id: KeyUsage(count: 5, lastUsedAt: now.addingTimeInterval(10))])
        try await store.recordUsage([owner.id: KeyUsage(count: 7, lastUsedAt: now.addingTimeInterval(5))])
        let stored = try #require(try await store.key(id: owner.id, orgID: org.id))
        #expect(stored.usageCount == 12)
        #expect(stored.lastUsedAt == now.addingTimeInterval(10))
    }

    @Test(arguments: StoreFactory.all)
    func auditChainsAreSeparateFilteredAndNewestFirst(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, _, owner) = try await organization(store)
        let (other, _, _) = try await organization(store, name: "Other")
        try await store.appendAudit([
            event("request.denied", org: nil), event("key.create", org: org.id, key: owner.id),
            event("key.revoke", org: org.id, key: "key_b"), event("key.create", org: other.id),
        ])
        for chain in [org.id, other.id, nil] as [String?] { #expect(try await chainIntact(store, chain) == nil) }
        #expect(Set(try await store.auditChains()) == Set([org.id, other.id, nil]))
        let first = try await store.auditChain(orgID: other.id, after: 0, limit: 1)
        #expect(first.first?.previousHash == AuditChain.genesis)
        let page = try await store.auditRecords(orgID: org.id, query: AuditQuery(limit: 2))
        #expect(page.count == 2)
        #expect(page[0].seq > page[1].seq)
        let rest = try await store.auditRecords(orgID: org.id, query: AuditQuery(before: page[1].seq, limit: 10))
        #expect(rest.allSatisfy { $0.seq < page[1].seq })
        let all = try await store.auditRecords(orgID: org.id, query: AuditQuery(limit: 100))
        #expect(all.allSatisfy { $0.event.orgID == org.id })
        #expect(
            try await store.auditRecords(orgID: org.id, query: AuditQuery(keyID: owner.id)).map(\.event.action) == [
                "key.create"
            ])
        #expect(try await store.auditRecords(orgID: org.id, query: AuditQuery(action: "key.revoke")).count == 1)
        #expect(
            try await store.auditRecords(orgID: org.id, query: AuditQuery(since: now.addingTimeInterval(1))).isEmpty)
        #expect(try await store.auditRecords(orgID: org.id, query: AuditQuery(outcome: .denied)).isEmpty)
        #expect(all.first?.event.details == ["n": 1])
    }

    @Test(arguments: StoreFactory.all)
    func concurrentWritersNeverForkAChain(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let (org, app, _) = try await organization(store)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for index in 0..<25 { try await store.appendAudit([event("w\(writer).\(index)", org: org.id)]) }
                }
                group.addTask {
                    try await store.createKey(
                        newKey(org, app, label: "k\(writer)"), audit: event("key.create", org: org.id))
                }
            }
            try await group.waitForAll()
        }
        let chain = try await store.auditChain(orgID: org.id, after: 0, limit: 100_000)
        let expected = 1 + 8 * 25 + 8
        #expect(chain.count == expected)
        #expect(zip(chain, chain.dropFirst()).allSatisfy { $0.seq < $1.seq && $1.previousHash == $0.hash })
        #expect(try await chainIntact(store, org.id) == nil)
    }
}
