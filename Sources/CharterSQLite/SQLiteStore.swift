public import CharterCore
package import GRDB
import Logging
public import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The embedded default store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// Readers never wait for the writer, and SQLite runs one write transaction at a time. Every change commits
/// together with its audit record, and the chain's head is read inside that same transaction, so a chain
/// can never fork however many tasks write at once.
public struct SQLiteStore: Store {
    let pool: DatabasePool
    /// A connection of its own for WAL checkpoints, so copying the log into the database (and its fsync)
    /// happens beside the writer instead of inside some request's commit.
    private let checkpointer: DatabaseQueue

    /// Opens the database file at `path`, creating it if needed, readable and writable by its owner only.
    ///
    /// Call ``migrate()`` before anything else.
    /// - Parameter path: the file; its directory must exist.
    /// - Throws: GRDB's `DatabaseError` when the file cannot be opened or is not a SQLite database.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Writers queue behind each other; only a writer stuck this long fails.
        configuration.busyMode = .timeout(10)
        configuration.label = "charter"
        configuration.prepareDatabase { db in
            // Checkpoints run from `checkpoint()`; the writer only steps in if they fall far behind.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.fallbackCheckpointPages)")
        }
        Self.createPrivately(path)
        pool = try DatabasePool(path: path, configuration: configuration)
        // DESIGN.md requires an audit record to be durable before its answer is sent. GRDB opens a pool's
        // writer with synchronous=NORMAL, under which a power cut can undo commits already answered; FULL
        // syncs the WAL at every commit. Group commit, not a weaker mode, is how writes are made cheap. The
        // pool has one writer connection, and it is set after GRDB's own setup, so this holds.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        var checkpointing = Configuration()
        checkpointing.busyMode = .timeout(10)
        checkpointing.label = "charter-checkpoint"
        checkpointer = try DatabaseQueue(path: path, configuration: checkpointing)
    }

    /// Creates the database file with mode 0600 when it does not exist yet. SQLite gives the `-wal` and
    /// `-shm` files it makes beside a database the database's own mode, so they are 0600 too, whatever the
    /// umask. An existing file keeps the mode its operator gave it; any failure here is left for SQLite to
    /// report when it opens the path.
    static func createPrivately(_ path: String) {
        guard !path.isEmpty, path != ":memory:", !path.hasPrefix("file:") else { return }
        createNewFile(path, mode: 0o600)
    }

    /// WAL pages after which a commit checkpoints by itself (SQLite's default is 1000): about 40 MB.
    static let fallbackCheckpointPages = 10_000

    /// Copies committed pages from the WAL into the database file (a passive checkpoint, which never
    /// waits for readers or the writer), keeping the log short without stalling a commit.
    public func checkpoint() async throws {
        try await checkpointer.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }

    /// A checkpoint about once a second, beside the server.
    public var services: [any Service] { [Checkpoints(store: self)] }

    /// Runs ``checkpoint()`` once a second until graceful shutdown, logging (not throwing) failures so the
    /// next second retries.
    struct Checkpoints: Service {
        let store: SQLiteStore
        private let logger = Logger(label: "charter.sqlite")

        init(store: SQLiteStore) { self.store = store }

        func run() async throws {
            try? await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    do {
                        try await store.checkpoint()
                    } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                        // Another connection is checkpointing (the writer's own, past fallbackCheckpointPages), so
                        // the log is being kept short already; measured under load, this is all that ever failed.
                    } catch  where !Task.isCancelled {
                        // The code only (SQLITE_IOERR, …): GRDB's description quotes the statement.
                        let code = (error as? DatabaseError).map { "\($0.resultCode)" } ?? "\(type(of: error))"
                        logger.warning("checkpoint failed; will retry", metadata: ["error": "\(code)"])
                    }
                }
            }
        }
    }

    /// One process owns the file, and its services drop their own caches: there is nothing to observe.
    public func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) {}

    /// Creates or upgrades the schema; migrations already applied are skipped, so calling it again is harmless.
    public func migrate() async throws {
        let migrator = SQLiteMigrations.migrator
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            migrator.asyncMigrate(pool) { result in continuation.resume(with: result.map { _ in }) }
        }
    }

    /// The number of organizations.
    public func organizationCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM organizations") ?? 0 }
    }

    /// Creates an organization with its first app, its owner key and their audit records, in one transaction.
    ///
    /// The emptiness check runs in the same transaction, so two concurrent `charter init` runs create one
    /// organization between them.
    public func createOrganization(
        _ organization: Organization, app: App, ownerKey: APIKey, audit: [AuditEvent], onlyIfEmpty: Bool
    ) async throws -> Bool {
        try await write { db in
            if onlyIfEmpty, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM organizations)") == true {
                return false
            }
            try Rows.insert(organization.storedColumns, db)
            try Rows.insert(app.storedColumns, db)
            try Rows.insert(ownerKey.storedColumns, db)
            try AuditTable.append(audit, db)
            return true
        }
    }

    /// The organization with this id.
    public func organization(id: String) async throws -> Organization? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM organizations WHERE id = ?", arguments: [id])
                .map { try Organization(row: SQLiteRow($0)) }
        }
    }

    /// Stores a new app with its audit record.
    /// - Throws: ``CharterError`` `conflict` when the organization has an app of that name in that environment.
    public func createApp(_ app: App, audit: AuditEvent) async throws {
        try await write { db in
            try Rows.insert(app.storedColumns, db)
            try AuditTable.append([audit], db)
        }
    }

    /// The app with this id, if it belongs to `orgID`.
    public func app(id: String, orgID: String) async throws -> App? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE id = ? AND org_id = ?", arguments: [id, orgID])
                .map { try App(row: SQLiteRow($0)) }
        }
    }

    /// The organization's apps, oldest first.
    public func apps(orgID: String) async throws -> [App] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM apps WHERE org_id = ? ORDER BY created_at, id", arguments: [orgID])
                .map { try App(row: SQLiteRow($0)) }
        }
    }

    /// Runs `updates` in one write transaction, turning uniqueness violations into conflicts. Package-wide so the
    /// benchmarks' durable floor writes through exactly this path.
    package func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as DatabaseError {
            if let conflict = CharterError(constraintViolation: error) { throw conflict }
            throw error
        }
    }
}

/// Creates an empty file with `mode` unless something is already at `path` (`O_EXCL`: never truncates, never
/// follows a link planted there). At file scope so `close` is the system call, not the store's method.
private func createNewFile(_ path: String, mode: mode_t) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    if descriptor >= 0 { close(descriptor) }
}
