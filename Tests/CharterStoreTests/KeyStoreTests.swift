import CharterCore
import Foundation
import Testing
import UCAN

/// API keys: storage, lookup, listing, compare-and-swap updates and usage, against every store.
@Suite struct KeyStoreTests {
    @Test(arguments: StoreFactory.all)
    func everyFieldRoundTripsExactly(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            var key = try fixture.key(
                in: acme.app, label: "ci — déploiement", expiresAt: Date(timeIntervalSince1970: 1_800_086_400.457))
            key.revokedAt = Date(timeIntervalSince1970: 1_800_000_100.001)
            key.revokedBy = acme.owner.id
            key.lastUsedAt = Date(timeIntervalSince1970: 1_800_000_050.999)
            key.usageCount = 42
            key.version = 3
            try await store.createKey(key, audit: fixture.event("key.create", org: acme.org.id))
            #expect(try await store.key(id: key.id, orgID: acme.org.id) == key)
            #expect(try await store.key(secretHash: key.secretHash) == key)
            // The owner key has every optional field nil and a role instead of a custom set.
            #expect(try await store.key(id: acme.owner.id, orgID: acme.org.id) == acme.owner)
            #expect(try await store.key(secretHash: acme.owner.secretHash) == acme.owner)
        }
    }

    @Test(arguments: StoreFactory.all)
    func keysAreScopedToTheirOrganization(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            #expect(try await store.key(id: acme.owner.id, orgID: other.org.id) == nil)
            #expect(try await store.key(id: "key_missing", orgID: acme.org.id) == nil)
            #expect(try await store.key(secretHash: SHA256.hash([1, 2, 3])) == nil)
            #expect(try await store.keys(orgID: other.org.id, filter: KeyFilter(now: fixture.now)) == [other.owner])
        }
    }

    @Test(arguments: StoreFactory.all)
    func keysByIDAreTheOrganizationsOnly(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            let ci = try fixture.key(in: acme.app, label: "ci")
            try await store.createKey(ci, audit: fixture.event("key.create", org: acme.org.id))
            let found = try await store.keys(
                ids: [ci.id, acme.owner.id, other.owner.id, "key_missing"], orgID: acme.org.id)
            #expect(Set(found) == [ci, acme.owner], "another organization's key is not found by its id")
            #expect(try await store.keys(ids: [], orgID: acme.org.id).isEmpty)
        }
    }

    @Test(arguments: StoreFactory.all)
    func labelsAreUniqueWithinAnApp(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            try await store.createKey(
                fixture.key(in: acme.app, label: "ci"), audit: fixture.event("key.create", org: acme.org.id))
            let records = try await fixture.chain(acme.org.id).count
            let clash = try fixture.key(in: acme.app, label: "ci")
            let error = await #expect(throws: CharterError.self) {
                try await store.createKey(clash, audit: fixture.event("key.create", org: acme.org.id))
            }
            #expect(error?.code == .conflict)
            #expect(error?.message.contains("ci") == false, "a conflict names no value")
            #expect(try await store.key(id: clash.id, orgID: acme.org.id) == nil)
            #expect(try await fixture.chain(acme.org.id).count == records, "no record for a failed write")

            var sameSecret = try fixture.key(in: acme.app, label: "copy")
            sameSecret.secretHash = acme.owner.secretHash
            let duplicate = await #expect(throws: CharterError.self) {
                try await store.createKey(sameSecret, audit: fixture.event("key.create", org: acme.org.id))
            }
            #expect(duplicate?.code == .conflict)

            let billing = App(
                orgID: acme.org.id, name: "billing", environment: .test, createdAt: fixture.now, createdBy: nil)
            try await store.createApp(billing, audit: fixture.event("app.create", org: acme.org.id))
            try await store.createKey(
                fixture.key(in: billing, label: "ci"), audit: fixture.event("key.create", org: acme.org.id))
            #expect(try await fixture.chainBreak(acme.org.id) == nil)
        }
    }

    @Test(arguments: StoreFactory.all)
    func listingsAgreeWithKeyFilter(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            let now = fixture.now
            let billing = App(orgID: acme.org.id, name: "billing", environment: .test, createdAt: now, createdBy: nil)
            try await store.createApp(billing, audit: fixture.event("app.create", org: acme.org.id))
            func key(_ label: String, _ app: App, minute: Double, expires: TimeInterval?) throws -> APIKey {
                try fixture.key(
                    in: app, label: label, createdAt: now.addingTimeInterval(minute * 60),
                    expiresAt: expires.map { now.addingTimeInterval($0) })
            }
            let revoked = try key("revoked", acme.app, minute: 1, expires: nil)
            let revokedAndExpired = try key("revoked-expired", billing, minute: 2, expires: -60)
            // Created out of order: listings sort by creation time, not by insertion.
            let created = [
                try key("late", acme.app, minute: 7, expires: 30 * 86_400),
                try key("soon", billing, minute: 3, expires: 3_600),
                try key("expired", acme.app, minute: 5, expires: -1),
                try key("expires-now", billing, minute: 4, expires: 0),
                try key("forever", billing, minute: 6, expires: nil),
                revoked, revokedAndExpired,
            ]
            for key in created { try await store.createKey(key, audit: fixture.event("key.create", org: acme.org.id)) }
            for key in [revoked, revokedAndExpired] {
                var change = key
                change.revokedAt = now
                change.revokedBy = acme.owner.id
                change.version = key.version + 1
                #expect(
                    try await store.updateKey(
                        change, expectedVersion: key.version, audit: fixture.event("key.revoke", org: acme.org.id)))
            }
            let all = try await store.keys(orgID: acme.org.id, filter: KeyFilter(now: now))
            #expect(
                all.map(\.label) == [
                    "owner", "revoked", "revoked-expired", "soon", "expires-now", "expired", "forever", "late",
                ])
            #expect(!all.contains { $0.orgID == other.org.id })

            let filters: [KeyFilter] =
                [nil, acme.app.id, billing.id, "app_missing"].flatMap { appID in
                    [nil, APIKey.Status.active, .expired, .revoked].flatMap { status in
                        [nil, 0, 3_600, 86_400, 60 * 86_400].map { within in
                            KeyFilter(appID: appID, status: status, expiringWithin: within, now: now)
                        }
                    }
                }
            for filter in filters {
                #expect(
                    try await store.keys(orgID: acme.org.id, filter: filter) == all.filter(filter.matches), "\(filter)")
            }
            func labels(_ filter: KeyFilter) async throws -> [String] {
                try await store.keys(orgID: acme.org.id, filter: filter).map(\.label)
            }
            #expect(try await labels(KeyFilter(status: .revoked, now: now)) == ["revoked", "revoked-expired"])
            #expect(try await labels(KeyFilter(status: .expired, now: now)) == ["expires-now", "expired"])
            #expect(try await labels(KeyFilter(status: .active, now: now)) == ["owner", "soon", "forever", "late"])
            #expect(try await labels(KeyFilter(expiringWithin: 86_400, now: now)) == ["soon"])
            #expect(try await labels(KeyFilter(appID: billing.id, status: .active, now: now)) == ["soon", "forever"])
        }
    }
}
