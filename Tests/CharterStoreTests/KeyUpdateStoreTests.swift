import CharterCore
import Foundation
import Testing

/// Compare-and-swap updates and batched usage, against every store.
@Suite struct KeyUpdateStoreTests {
    @Test(arguments: StoreFactory.all)
    func anUpdateReplacesTheMutableFields(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let original = try fixture.key(in: acme.app, label: "a")
            try await store.createKey(original, audit: fixture.event("key.create", org: acme.org.id))
            var changed = original
            changed.label = "b"
            changed.role = .auditor
            changed.permissions = Role.auditor.permissions
            changed.expiresAt = fixture.now.addingTimeInterval(60.5)
            changed.revokedAt = fixture.now
            changed.revokedBy = acme.owner.id
            changed.ipAllowlist = [try CIDR("192.0.2.1"), try CIDR("::1")]
            changed.allowedEndpoints = []
            changed.rateLimitPerMinute = nil
            changed.version = 2
            #expect(
                try await store.updateKey(
                    changed, expectedVersion: 1, audit: fixture.event("key.update", org: acme.org.id)))
            #expect(try await store.key(id: original.id, orgID: acme.org.id) == changed)
            #expect(try await fixture.chain(acme.org.id).last?.event.action == "key.update")
        }
    }

    @Test(arguments: StoreFactory.all)
    func aStaleOrForeignUpdateChangesNothing(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            var key = try fixture.key(in: acme.app, label: "a")
            try await store.createKey(key, audit: fixture.event("key.create", org: acme.org.id))
            key.label = "b"
            key.version = 2
            #expect(
                try await store.updateKey(key, expectedVersion: 1, audit: fixture.event("key.update", org: acme.org.id))
            )
            let records = try await fixture.chain(acme.org.id).count

            var stale = key
            stale.label = "c"
            #expect(
                !(try await store.updateKey(
                    stale, expectedVersion: 1, audit: fixture.event("key.update", org: acme.org.id))))
            var foreign = key
            foreign.orgID = other.org.id
            foreign.label = "d"
            foreign.version = 3
            #expect(
                !(try await store.updateKey(
                    foreign, expectedVersion: 2, audit: fixture.event("key.update", org: other.org.id))))
            var missing = try fixture.key(in: acme.app, label: "e")
            missing.version = 2
            #expect(
                !(try await store.updateKey(
                    missing, expectedVersion: 1, audit: fixture.event("key.update", org: acme.org.id))))

            #expect(try await store.key(id: key.id, orgID: acme.org.id) == key)
            #expect(try await fixture.chain(acme.org.id).count == records, "a refused update writes no record")
            #expect(try await fixture.chain(other.org.id).count == 2)
        }
    }

    @Test(arguments: StoreFactory.all)
    func anUpdateToATakenLabelIsAConflict(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            var key = try fixture.key(in: acme.app, label: "ci")
            try await store.createKey(key, audit: fixture.event("key.create", org: acme.org.id))
            let records = try await fixture.chain(acme.org.id).count
            let unchanged = key
            key.label = acme.owner.label
            key.version = 2
            let error = await #expect(throws: CharterError.self) {
                try await store.updateKey(key, expectedVersion: 1, audit: fixture.event("key.update", org: acme.org.id))
            }
            #expect(error?.code == .conflict)
            #expect(try await store.key(id: key.id, orgID: acme.org.id) == unchanged)
            #expect(try await fixture.chain(acme.org.id).count == records)
        }
    }

    @Test(arguments: StoreFactory.all)
    func usageAddsUpAndLastUsedOnlyMovesForward(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let ci = try fixture.key(in: acme.app, label: "ci")
            try await store.createKey(ci, audit: fixture.event("key.create", org: acme.org.id))
            let records = try await fixture.chain(acme.org.id).count
            let now = fixture.now
            try await store.recordUsage([
                acme.owner.id: KeyUsage(count: 5, lastUsedAt: now.addingTimeInterval(10)),
                ci.id: KeyUsage(count: 1, lastUsedAt: now),
                "key_missing": KeyUsage(count: 9, lastUsedAt: now),
            ])
            try await store.recordUsage([acme.owner.id: KeyUsage(count: 7, lastUsedAt: now.addingTimeInterval(5))])
            try await store.recordUsage([:])
            let owner = try #require(try await store.key(id: acme.owner.id, orgID: acme.org.id))
            #expect(owner.usageCount == 12)
            #expect(owner.lastUsedAt == now.addingTimeInterval(10))
            let used = try #require(try await store.key(id: ci.id, orgID: acme.org.id))
            #expect(used.usageCount == 1)
            #expect(used.lastUsedAt == now)
            #expect(try await fixture.chain(acme.org.id).count == records, "usage is not audited")
        }
    }

    @Test(arguments: StoreFactory.all)
    func anUpdateLeavesUsageAlone(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let used = fixture.now.addingTimeInterval(30)
            try await store.recordUsage([acme.owner.id: KeyUsage(count: 3, lastUsedAt: used)])
            var change = acme.owner
            change.label = "renamed"
            change.usageCount = 0
            change.lastUsedAt = nil
            change.version = 2
            #expect(
                try await store.updateKey(
                    change, expectedVersion: 1, audit: fixture.event("key.update", org: acme.org.id)))
            let stored = try #require(try await store.key(id: acme.owner.id, orgID: acme.org.id))
            #expect(stored.label == "renamed")
            #expect(stored.usageCount == 3)
            #expect(stored.lastUsedAt == used)
        }
    }
}
