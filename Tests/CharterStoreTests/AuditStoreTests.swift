import CharterCore
import Foundation
import Testing

/// The audit trail: one record per change, one hash chain per organization, against every store.
@Suite struct AuditStoreTests {
    /// A flush of a long queue: more events than one statement carries, across chains, stay whole and in order.
    @Test(arguments: StoreFactory.all)
    func aLongBatchOfEventsIsStoredWholeAndChained(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let before = try await fixture.chain(acme.org.id).count
            let unattributed = try await fixture.chain(nil).count
            let orgs: [String?] = [acme.org.id, nil, acme.org.id]
            try await store.appendAudit((0..<2_500).map { fixture.event("step.\($0)", org: orgs[$0 % 3]) })
            let chain = try await fixture.chain(acme.org.id)
            #expect(chain.count == before + 1_667)
            #expect(chain.suffix(2).map(\.event.action) == ["step.2498", "step.2499"])
            #expect(try await fixture.chain(nil).count == unattributed + 833)
            #expect(try await fixture.chainBreak(acme.org.id) == nil)
            #expect(try await fixture.chainBreak(nil) == nil)
        }
    }

    @Test(arguments: StoreFactory.all)
    func everyChangeWritesExactlyOneRecord(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            func actions() async throws -> [String] { try await fixture.chain(acme.org.id).map(\.event.action) }
            #expect(try await actions() == ["org.create", "key.create"])

            let app = App(
                orgID: acme.org.id, name: "billing", environment: .test, createdAt: fixture.now, createdBy: nil)
            try await store.createApp(app, audit: fixture.event("app.create", org: acme.org.id))
            #expect(try await actions() == ["org.create", "key.create", "app.create"])
            var key = try fixture.key(in: app, label: "ci")
            try await store.createKey(key, audit: fixture.event("key.create", org: acme.org.id))
            #expect(try await actions() == ["org.create", "key.create", "app.create", "key.create"])
            key.version = 2
            key.revokedAt = fixture.now
            #expect(
                try await store.updateKey(key, expectedVersion: 1, audit: fixture.event("key.revoke", org: acme.org.id))
            )
            try await store.appendAudit([fixture.event("token.mint", org: acme.org.id, key: key.id)])
            let expected = ["org.create", "key.create", "app.create", "key.create", "key.revoke", "token.mint"]
            #expect(try await actions() == expected)

            try await store.appendAudit([])
            try await store.recordUsage([key.id: KeyUsage(count: 1, lastUsedAt: fixture.now)])
            #expect(try await actions() == expected, "usage and empty batches write nothing")
            #expect(try await fixture.chainBreak(acme.org.id) == nil)
        }
    }

    @Test(arguments: StoreFactory.all)
    func eachOrganizationHasItsOwnChain(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            try await store.appendAudit([
                fixture.event("request.denied", org: nil, outcome: .denied),
                fixture.event("key.create", org: acme.org.id),
                fixture.event("key.create", org: other.org.id),
                fixture.event("request.denied", org: nil, outcome: .denied),
                fixture.event("key.revoke", org: acme.org.id),
            ])
            #expect(Set(try await store.auditChains()) == [acme.org.id, other.org.id, nil])
            for orgID in [acme.org.id, other.org.id, nil] as [String?] {
                let chain = try await fixture.chain(orgID)
                #expect(chain.first?.previousHash == AuditChain.genesis)
                #expect(chain.allSatisfy { $0.event.orgID == orgID })
                #expect(zip(chain, chain.dropFirst()).allSatisfy { $0.seq < $1.seq && $1.previousHash == $0.hash })
                #expect(try await fixture.chainBreak(orgID) == nil)
            }
            #expect(try await fixture.chain(acme.org.id).count == 4)
            #expect(try await fixture.chain(nil).count == 2)
        }
    }

    @Test(arguments: StoreFactory.all)
    func aChainReadsInPagesThatVerifyInTurn(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            try await store.appendAudit((0..<23).map { fixture.event("step.\($0)", org: acme.org.id) })
            var after: Int64 = 0
            var head = AuditChain.genesis
            var count = 0
            while true {
                let page = try await store.auditChain(orgID: acme.org.id, after: after, limit: 5)
                guard let last = page.last else { break }
                #expect(page.count <= 5)
                let (broken, next) = AuditChain.verify(page, after: head)
                #expect(broken == nil)
                head = next
                after = last.seq
                count += page.count
            }
            #expect(count == 25)
            #expect(try await store.auditChain(orgID: acme.org.id, after: 0, limit: 0).isEmpty)
        }
    }

    @Test(arguments: StoreFactory.all)
    func recordsReadBackAsWritten(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let sparse = AuditEvent(
                time: fixture.now, orgID: nil, keyID: nil, action: "request.denied", outcome: .failure)
            let full = fixture.event("key.create", org: "org_x", key: "key_x", outcome: .denied)
            try await store.appendAudit([sparse, full])
            #expect(try await fixture.chain(nil).map(\.event) == [sparse])
            #expect(try await fixture.chain("org_x").map(\.event) == [full])
        }
    }

    /// `Date` counts from 2001; earlier times must still read back to the milliseconds that were hashed.
    @Test(arguments: StoreFactory.all)
    func timesBefore2001StillVerify(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            // About half of these milliseconds read back one short through a plain `Date(timeIntervalSince1970:)`.
            let milliseconds: [Int64] = Array(-20..<40) + [86_400_007, 631_152_000_123, 978_307_199_999]
            let times = milliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
            try await store.appendAudit(times.map { fixture.event("old", org: nil, at: $0) })
            let chain = try await fixture.chain(nil)
            #expect(chain.map { AuditChain.milliseconds($0.event.time) } == times.map(AuditChain.milliseconds))
            #expect(try await fixture.chainBreak(nil) == nil)
        }
    }

    @Test(arguments: StoreFactory.all)
    func concurrentWritersNeverForkAChain(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let keys = try (0..<8).map { try fixture.key(in: acme.app, label: "k\($0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in 0..<25 {
                            try await store.appendAudit([fixture.event("w\(writer).\(index)", org: acme.org.id)])
                        }
                    }
                    group.addTask {
                        try await store.createKey(keys[writer], audit: fixture.event("key.create", org: acme.org.id))
                    }
                }
                try await group.waitForAll()
            }
            let chain = try await fixture.chain(acme.org.id)
            let expected = 2 + 8 * 25 + 8
            #expect(chain.count == expected)
            #expect(zip(chain, chain.dropFirst()).allSatisfy { $0.seq < $1.seq && $1.previousHash == $0.hash })
            #expect(try await fixture.chainBreak(acme.org.id) == nil)
            for writer in 0..<8 {
                let own = chain.map(\.event.action).filter { $0.hasPrefix("w\(writer).") }
                #expect(own == (0..<25).map { "w\(writer).\($0)" }, "each writer's events in its order")
            }
            #expect(try await store.keys(orgID: acme.org.id, filter: KeyFilter(now: fixture.now)).count == 9)
        }
    }
}
