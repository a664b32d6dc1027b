import CharterCore
import Foundation
import UCAN

/// Test data and checks shared by the store contract suites.
struct StoreFixture {
    let store: any Store

    /// A fixed time with millisecond precision, so stored times must read back identical.
    static let now = Date(timeIntervalSince1970: 1_800_000_000.123)
    var now: Date { Self.now }

    /// What `charter init` creates: an organization, its first app and its owner key.
    struct Tenant {
        let org: Organization
        let app: App
        let owner: APIKey
    }

    /// The pieces of a tenant, not yet stored.
    func tenant(_ name: String = "Acme") -> Tenant {
        let org = Organization(name: name, createdAt: now)
        let app = App(orgID: org.id, name: "console", environment: .live, createdAt: now, createdBy: nil)
        let secret = APIKeySecret.generate(for: .live)
        let owner = APIKey(
            orgID: org.id, appID: app.id, environment: .live, label: "owner", prefix: secret.display, role: .owner,
            permissions: Role.owner.permissions, secretHash: secret.hash, createdAt: now, createdBy: nil)
        return Tenant(org: org, app: app, owner: owner)
    }

    /// Stores a new tenant with two audit records, as `charter init` does.
    func organization(_ name: String = "Acme") async throws -> Tenant {
        let tenant = tenant(name)
        let created = try await store.createOrganization(
            tenant.org, app: tenant.app, ownerKey: tenant.owner,
            audit: [event("org.create", org: tenant.org.id), event("key.create", org: tenant.org.id)],
            onlyIfEmpty: false)
        guard created else { throw FixtureError.notCreated }
        return tenant
    }

    /// A successful event with a little detail.
    func event(
        _ action: String, org: String?, key: String? = nil, outcome: AuditEvent.Outcome = .success, at time: Date? = nil
    ) -> AuditEvent {
        AuditEvent(
            time: time ?? now, orgID: org, environment: .live, keyID: key, action: action, target: "app_1",
            outcome: outcome, reason: outcome == .success ? nil : "permission_denied", ip: "192.0.2.7",
            requestID: "req_1", details: ["n": 1, "tags": ["a", "é"], "nested": ["ok": true, "none": .null]])
    }

    /// A key with every optional field set.
    func key(in app: App, label: String, createdAt: Date? = nil, expiresAt: Date? = nil) throws -> APIKey {
        let secret = APIKeySecret.generate(for: app.environment)
        return APIKey(
            orgID: app.orgID, appID: app.id, environment: app.environment, label: label, prefix: secret.display,
            role: nil, permissions: [.keysRead, .auditRead], secretHash: secret.hash, createdAt: createdAt ?? now,
            createdBy: "key_creator", expiresAt: expiresAt,
            ipAllowlist: [try CIDR("10.0.0.0/8"), try CIDR("2001:db8::/32")],
            allowedEndpoints: ["/v1/me", "/v1/keys*"], rateLimitPerMinute: 120)
    }

    /// Revokes `key` through the store, as `POST /v1/keys/{id}/revoke` does; whether the store took the change.
    func revoke(_ key: APIKey) async throws -> Bool {
        var revoked = key
        revoked.revokedAt = now
        revoked.version += 1
        return try await store.updateKey(
            revoked, expectedVersion: key.version, audit: event("key.revoke", org: key.orgID))
    }

    /// One chain, whole, oldest first.
    func chain(_ orgID: String?) async throws -> [AuditRecord] {
        try await store.auditChain(orgID: orgID, after: 0, limit: 100_000)
    }

    /// Where the chain breaks; nil when it verifies from genesis.
    func chainBreak(_ orgID: String?) async throws -> AuditChain.Break? {
        AuditChain.verify(try await chain(orgID), after: AuditChain.genesis).0
    }

    enum FixtureError: Error { case notCreated }
}
