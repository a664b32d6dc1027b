/// The rules for apps.
public struct AppService: Sendable {
    private let store: any AppStore
    private let clock: CharterClock

    public init(store: any AppStore, clock: CharterClock) {
        self.store = store
        self.clock = clock
    }

    /// Creates an app in the caller's organization.
    public func create(name: String, environment: String, by caller: Identity, context: CallContext) async throws -> App
    {
        try caller.authorize(.createApp)
        let trimmed = try KeyRules.name(name, field: "name")
        guard let environment = Environment(rawValue: environment) else {
            throw CharterError.invalid("environment", "must be live or test")
        }
        try caller.requireReach(environment)
        let now = clock.now()
        let app = App(
            orgID: caller.organization.id, name: trimmed, environment: environment, createdAt: now,
            createdBy: caller.key.id)
        try await store.createApp(
            app,
            audit: AuditEvent(
                "app.create", by: caller, at: now, context: context, target: app.id, environment: environment,
                details: ["name": .string(app.name)]))
        return app
    }

    /// The caller's organization's apps, of the environments its key reaches.
    public func list(by caller: Identity) async throws -> [App] {
        try caller.authorize(.listApps)
        return try await store.apps(orgID: caller.organization.id).filter { caller.reaches($0.environment) }
    }

    /// One app of the caller's organization.
    public func get(id: String, by caller: Identity) async throws -> App {
        try caller.authorize(.readApp)
        guard let app = try await store.app(id: id, orgID: caller.organization.id), caller.reaches(app.environment)
        else {
            throw CharterError.notFound("app")
        }
        return app
    }
}
