/// The control plane's services wired to one store: what the server, CLI and tests share.
public struct ControlPlane: Sendable {
    public let store: any Store
    public let clock: CharterClock
    public let usage: UsageTracker
    public let rateLimiter: RateLimiter
    public let auditWriter: AuditWriter
    public let authenticator: Authenticator
    public let keys: KeyService
    public let apps: AppService
    public let audit: AuditService

    public init(store: any Store, clock: CharterClock = .system) {
        self.store = store
        self.clock = clock
        usage = UsageTracker()
        rateLimiter = RateLimiter()
        auditWriter = AuditWriter()
        authenticator = Authenticator(store: store, clock: clock, usage: usage, rateLimiter: rateLimiter)
        keys = KeyService(store: store, clock: clock, authenticator: authenticator, usage: usage)
        apps = AppService(store: store, clock: clock)
        audit = AuditService(store: store)
    }
}
