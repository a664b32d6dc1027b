public import ServiceLifecycle

/// Everything Charter persists: one contract per aggregate, which SQLite and PostgreSQL both fulfil, and the
/// backend's own lifecycle.
///
/// Every method that changes state takes the audit event describing it and commits both in one
/// transaction: a change is never visible without its record. Stores compute audit hashes with
/// ``AuditChain`` while holding the chain's write lock, so each organization has one unbroken chain.
/// Services depend on the aggregates they use, not on the whole store.
public protocol Store: StoreBackend, OrganizationStore, AppStore, KeyStore, EnvelopeStore, SigningKeyStore,
    TokenStore, AuditStore, SessionStore
{}

/// What a backend does beside storing: its schema and its background work.
public protocol StoreBackend: Sendable {
    /// Creates or upgrades the schema with named, forward-only migrations.
    func migrate() async throws

    /// The backend's own background work, which must be running while the store is used: PostgreSQL's
    /// connection pool (a query waits until it runs) and change listener, SQLite's WAL checkpoints off the
    /// request path. The server puts them first in its `ServiceGroup`, so they start before it and stop after
    /// its last write; other callers scope them with ``withServices(_:)``.
    var services: [any Service] { get }

    /// Calls `handler` after every committed change that cached copies depend on, whichever process sharing
    /// the database made it. A store only one process can open (SQLite) has no one else to hear from and
    /// never calls it; the process's own services drop their caches directly.
    func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void)
}

extension StoreBackend {
    /// Runs ``services`` for as long as `body` runs, then cancels them and waits for them to stop: for a command
    /// or a test that uses the store without a `ServiceGroup`. A backend's services run once, so call this once
    /// per store.
    public func withServices<T>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// A committed change that makes cached copies stale, as one replica tells the others.
public enum StoreChange: Sendable, Hashable {
    /// A key was revoked or edited.
    case key(id: String)
    /// An app's envelopes changed (one was created or revoked).
    case envelopes(appID: String)
    /// A signing key was created or rotated.
    case signingKeys
    /// Changes may have gone unheard (the connection that listens for them was lost): drop every cached copy.
    case all
}
