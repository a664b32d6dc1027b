import Foundation

/// Creating organizations: the first one by `charter init`, more by `charter orgs create`.
public struct Setup: Sendable {
    /// What was created; `ownerKey` is the plaintext, shown once.
    public struct Created: Sendable {
        public let organization: Organization
        public let app: App
        public let keyID: String
        public let ownerKey: String
    }

    private let store: any Store
    private let clock: CharterClock

    public init(store: any Store, clock: CharterClock) {
        self.store = store
        self.clock = clock
    }

    /// Migrates the schema and, when no organization exists yet, creates the first one.
    /// - Returns: what was created, or nil when the database was already initialized (nothing changed).
    public func initialize(organizationName: String = "Default organization") async throws -> Created? {
        try await store.migrate()
        return try await create(organizationName: organizationName, onlyIfEmpty: true)
    }

    /// Creates another organization with its `console` app (live) and an owner key.
    public func createOrganization(name: String) async throws -> Created {
        try await store.migrate()
        guard let created = try await create(organizationName: name, onlyIfEmpty: false) else {
            throw CharterError(.internalError, "the organization was not created")
        }
        return created
    }

    private func create(organizationName: String, onlyIfEmpty: Bool) async throws -> Created? {
        let name = try KeyRules.name(organizationName, field: "name")
        let now = clock.now()
        let organization = Organization(name: name, createdAt: now)
        let app = App(orgID: organization.id, name: "console", environment: .live, createdAt: now, createdBy: nil)
        let secret = APIKeySecret.generate(for: .live)
        let key = APIKey(
            orgID: organization.id, appID: app.id, environment: .live, label: "owner", prefix: secret.display,
            role: .owner, permissions: Role.owner.permissions, secretHash: secret.hash, createdAt: now, createdBy: nil)
        let events = [
            AuditEvent(
                time: now, orgID: organization.id, keyID: nil, action: "org.create", target: organization.id,
                outcome: .success, details: ["name": .string(name)]),
            AuditEvent(
                time: now, orgID: organization.id, environment: .live, keyID: nil, action: "app.create", target: app.id,
                outcome: .success, details: ["name": .string(app.name)]),
            AuditEvent(
                time: now, orgID: organization.id, environment: .live, keyID: nil, action: "key.create", target: key.id,
                outcome: .success, details: KeyService.summary(of: key)),
        ]
        guard
            try await store.createOrganization(
                organization, app: app, ownerKey: key, audit: events, onlyIfEmpty: onlyIfEmpty)
        else { return nil }
        return Created(organization: organization, app: app, keyID: key.id, ownerKey: secret.plaintext)
    }
}
