public import UCAN

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
    public let signingKeys: SigningKeys
    public let envelopes: EnvelopeService
    public let tokens: TokenService

    /// - Parameter masterKey: seals the signing keys; it must never be stored in `store`.
    public init(store: any Store, masterKey: SecretBox.Key, clock: CharterClock = .system) {
        self.store = store
        self.clock = clock
        usage = UsageTracker()
        // A store other replicas share keeps the buckets, so a key's limit holds across all of them.
        rateLimiter = RateLimiter(ledger: store as? any RateLimitLedger)
        auditWriter = AuditWriter()
        authenticator = Authenticator(store: store, clock: clock, usage: usage, rateLimiter: rateLimiter)
        keys = KeyService(store: store, clock: clock, authenticator: authenticator, usage: usage)
        apps = AppService(store: store, clock: clock)
        audit = AuditService(store: store)
        signingKeys = SigningKeys(store: store, masterKey: masterKey, clock: clock)
        envelopes = EnvelopeService(store: store, clock: clock, signingKeys: signingKeys)
        tokens = TokenService(
            store: store, clock: clock, envelopes: envelopes, signingKeys: signingKeys, auditWriter: auditWriter)
        store.observeChanges { [authenticator, envelopes, signingKeys] change in
            switch change {
            case .key(let id): authenticator.forget(keyID: id)
            case .envelopes(let appID): envelopes.forget(appID: appID)
            case .signingKeys: signingKeys.forgetActive()
            case .all:
                authenticator.forgetAll()
                envelopes.forgetAll()
                signingKeys.forgetActive()
            }
        }
    }
}
