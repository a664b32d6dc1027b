import CharterCore
import Foundation
import Testing

/// Organizations and apps, against every store.
@Suite struct OrganizationStoreTests {
    @Test(arguments: StoreFactory.all)
    func migratingAgainIsHarmless(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            try await store.migrate()
            #expect(try await store.organizationCount() == 0)
            let tenant = try await fixture.organization()
            try await store.migrate()
            #expect(try await store.organizationCount() == 1)
            #expect(try await store.organization(id: tenant.org.id) == tenant.org)
            #expect(try await fixture.chain(tenant.org.id).count == 2)
        }
    }

    @Test(arguments: StoreFactory.all)
    func initializationHappensOnce(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let first = fixture.tenant()
            let events = [
                fixture.event("org.create", org: first.org.id), fixture.event("key.create", org: first.org.id),
            ]
            #expect(
                try await store.createOrganization(
                    first.org, app: first.app, ownerKey: first.owner, audit: events, onlyIfEmpty: true))
            #expect(try await store.organizationCount() == 1)
            #expect(try await fixture.chain(first.org.id).map(\.event) == events)

            let second = fixture.tenant("Second")
            let again = try await store.createOrganization(
                second.org, app: second.app, ownerKey: second.owner,
                audit: [fixture.event("org.create", org: second.org.id)], onlyIfEmpty: true)
            #expect(!again)
            #expect(try await store.organizationCount() == 1)
            #expect(try await store.auditChains() == [first.org.id])
            #expect(try await fixture.chain(first.org.id).count == 2)
            #expect(try await store.organization(id: second.org.id) == nil)
            #expect(try await store.key(secretHash: second.owner.secretHash) == nil)
            #expect(try await store.organization(id: first.org.id) == first.org)
            #expect(try await store.app(id: first.app.id, orgID: first.org.id) == first.app)
            #expect(try await store.key(id: first.owner.id, orgID: first.org.id) == first.owner)
        }
    }

    @Test(arguments: StoreFactory.all)
    func furtherOrganizationsNeedNoEmptyStore(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            _ = try await fixture.organization()
            let other = try await fixture.organization("Other")
            #expect(try await store.organizationCount() == 2)
            #expect(try await store.organization(id: other.org.id)?.name == "Other")
            #expect(try await store.organization(id: "org_missing") == nil)
        }
    }

    @Test(arguments: StoreFactory.all)
    func appsAreScopedToTheirOrganization(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            let billing = App(
                orgID: acme.org.id, name: "billing", environment: .test, createdAt: fixture.now.addingTimeInterval(1),
                createdBy: acme.owner.id)
            try await store.createApp(billing, audit: fixture.event("app.create", org: acme.org.id))
            #expect(try await store.app(id: billing.id, orgID: acme.org.id) == billing)
            #expect(try await store.app(id: billing.id, orgID: other.org.id) == nil)
            #expect(try await store.app(id: "app_missing", orgID: acme.org.id) == nil)
            #expect(try await store.apps(orgID: acme.org.id) == [acme.app, billing], "oldest first")
            #expect(try await store.apps(orgID: other.org.id) == [other.app])
        }
    }

    @Test(arguments: StoreFactory.all)
    func appNamesAreUniquePerOrganizationAndEnvironment(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            func app(_ name: String, _ environment: Environment, in org: Organization) -> App {
                App(orgID: org.id, name: name, environment: environment, createdAt: fixture.now, createdBy: nil)
            }
            try await store.createApp(
                app("billing", .test, in: acme.org), audit: fixture.event("app.create", org: acme.org.id))
            let records = try await fixture.chain(acme.org.id).count
            let error = await #expect(throws: CharterError.self) {
                try await store.createApp(
                    app("billing", .test, in: acme.org), audit: fixture.event("app.create", org: acme.org.id))
            }
            #expect(error?.code == .conflict)
            #expect(error?.message.contains("billing") == false, "a conflict names no value")
            #expect(try await fixture.chain(acme.org.id).count == records, "no record for a failed write")
            #expect(try await store.apps(orgID: acme.org.id).count == 2)

            try await store.createApp(
                app("billing", .live, in: acme.org), audit: fixture.event("app.create", org: acme.org.id))
            try await store.createApp(
                app("billing", .test, in: other.org), audit: fixture.event("app.create", org: other.org.id))
            #expect(try await fixture.chainBreak(acme.org.id) == nil)
        }
    }
}
