public import CharterCore
import CharterStorage
import Foundation
public import Logging
import NIOCore
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// The store for several replicas: PostgreSQL through a postgres-nio connection pool.
///
/// Every transaction that writes takes one lock first, the single row of `audit_counter`, so writes commit
/// one after another, as SQLite's do: each organization's audit chain is extended from the head the previous
/// write committed, feed entries commit in `seq` order, and a mint re-checking its envelope sees every
/// revocation that committed before it. Taking the lock moves the row's version. A mint batch reads before it
/// takes the lock, and commits only if the version has not moved since (``recordMints(_:)``), which keeps the
/// same guarantees. Changes that other
/// replicas cache (keys, envelopes, signing keys) are announced with `NOTIFY` in the same transaction (see
/// ``ChangeListener``).
public final class PostgresStore: Store {
    let client: PostgresClient
    let logger: Logger
    let listener: ChangeListener
    /// The version of `audit_counter` this store's last mint batch left, and whether the next batch takes the
    /// write lock first (see ``recordMints(_:)``).
    let mintBatches = Mutex<(lastVersion: Int64, locking: Bool)>((-1, false))

    /// Connects to the database `url` names, once, to fail fast with a clear reason (unreachable, login refused,
    /// certificate not trusted) instead of leaving the pool to retry.
    ///
    /// Run ``services`` while the store is used, and call ``migrate()`` before anything else.
    /// - Throws: ``PostgresURLError`` when the TLS settings cannot be used, ``PostgresConnectionError`` when
    ///   the server cannot be reached or refuses the connection.
    public static func connect(url: PostgresURL, logger: Logger) async throws -> PostgresStore {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try url.connectionConfiguration(), id: 0, logger: logger)
            try? await connection.close()
        } catch let error as PostgresURLError {
            throw error
        } catch {
            throw PostgresConnectionError(url: url, error)
        }
        return try PostgresStore(url: url, logger: logger)
    }

    /// Makes the pool and the change listener for the database `url` names; nothing connects until
    /// ``services`` run. ``connect(url:logger:)`` also checks that the server can be reached.
    /// - Throws: ``PostgresURLError`` when the TLS settings cannot be used.
    public init(url: PostgresURL, logger: Logger) throws {
        self.logger = logger
        client = PostgresClient(configuration: try url.clientConfiguration(), backgroundLogger: logger)
        listener = ChangeListener(configuration: try url.connectionConfiguration(), logger: logger)
    }

    public func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) {
        listener.observe(handler)
    }

    /// The connection pool and the change listener. PostgreSQL checkpoints on its own.
    public var services: [any Service] { [client, listener] }

    /// Applies the migrations not applied yet, in order, in one transaction under an advisory lock, so
    /// replicas starting together apply each migration once; the others wait, then find nothing to do.
    public func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS charter_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)
                """, logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query(
                "SELECT name FROM charter_migrations", logger: logger
            ).decode(String.self) {
                applied.insert(name)
            }
            let pending = PostgresMigrations.all.filter { !applied.contains($0.name) }
            for migration in pending {
                logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                // The extended protocol runs one statement at a time; a migration's end each with ";\n".
                for statement in migration.sql.components(separatedBy: ";\n")
                where !statement.allSatisfy(\.isWhitespace) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = StoredValue.time(Date())
                try await connection.query(
                    "INSERT INTO charter_migrations (name, applied_at) VALUES (\(migration.name), \(now))",
                    logger: logger)
            }
            if !pending.isEmpty {
                // A migration may change what mints depend on: batches other replicas read before it are redone.
                try await connection.query("UPDATE audit_counter SET version = version + 1", logger: logger)
            }
        }
    }

    /// Advisory lock keys: arbitrary constants, the same in every replica.
    static let migrationLock: Int64 = 0x6368_6172_7465_7201
    static let initializationLock: Int64 = 0x6368_6172_7465_7202
    static let sessionLock: Int64 = 0x6368_6172_7465_7203

    public func organizationCount() async throws -> Int {
        try await one(Int64.self, "SELECT COUNT(*) FROM organizations").map { Int($0) } ?? 0
    }

    public func createOrganization(
        _ organization: Organization, app: App, ownerKey: APIKey, audit: [AuditEvent], onlyIfEmpty: Bool
    ) async throws -> Bool {
        try await write { connection in
            if onlyIfEmpty {
                // Two replicas initializing an empty database at once create one organization between them.
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(Self.initializationLock))", logger: self.logger)
                let exists = try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM organizations)", logger: self.logger
                ).decode(Bool.self).first { _ in true }
                if exists == true { return false }
            }
            try await run(.insert(organization.storedColumns), connection)
            try await run(.insert(app.storedColumns), connection)
            try await run(.insert(ownerKey.storedColumns), connection)
            try await AuditAppend.append(audit, connection, store: self)
            return true
        }
    }

    public func organization(id: String) async throws -> Organization? {
        try await rows("SELECT * FROM organizations WHERE id = \(id)").first.map(Organization.init(row:))
    }

    public func createApp(_ app: App, audit: AuditEvent) async throws {
        try await write { connection in
            try await run(.insert(app.storedColumns), connection)
            try await AuditAppend.append([audit], connection, store: self)
        }
    }

    public func app(id: String, orgID: String) async throws -> App? {
        try await rows("SELECT * FROM apps WHERE id = \(id) AND org_id = \(orgID)").first.map(App.init(row:))
    }

    public func apps(orgID: String) async throws -> [App] {
        try await rows("SELECT * FROM apps WHERE org_id = \(orgID) ORDER BY created_at, id").map(App.init(row:))
    }

    // MARK: Running queries

    /// Runs `body` in a write transaction that first takes the write lock (see the type's documentation).
    ///
    /// Changes `body` announces are sent on commit; the call returns once this replica has heard them back.
    /// - Throws: ``CharterError`` `conflict` for a uniqueness violation; the transaction is rolled back on
    ///   any error.
    func write<T: Sendable>(
        announcing changes: [StoreChange] = [], _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let announcements = changes.map(listener.announce)
        do {
            let value = try await transaction { connection in
                var locked = false
                for try await _ in try await connection.execute(LockWrites(), logger: logger) { locked = true }
                guard locked else { throw CorruptRow("audit_counter") }
                let value = try await body(connection)
                for announcement in announcements {
                    try await connection.query(
                        "SELECT pg_notify(\(ChangeListener.channel), \(announcement.payload))", logger: logger)
                }
                return value
            }
            for announcement in announcements { await listener.waitForEcho(announcement.tag) }
            return value
        } catch {
            for announcement in announcements { listener.withdraw(announcement.tag) }
            throw error
        }
    }

    /// Runs `body` in a transaction of its own, without taking the write lock first: for state no audit chain or
    /// feed orders, such as dashboard sessions.
    ///
    /// - Throws: what `body` threw, or ``CharterError`` `conflict` for a uniqueness violation; the transaction
    ///   is rolled back on any error.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw Self.conflict(error.closureError ?? error.commitError ?? error.beginError ?? error)
        }
    }

    /// Runs `body` on a connection of the pool, outside any transaction: each statement commits alone.
    ///
    /// - Throws: what `body` threw, or ``CharterError`` `conflict` for a uniqueness violation.
    func autocommit<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw Self.conflict(error)
        }
    }

    /// The ``CharterError`` `conflict` a uniqueness violation stands for, or `error` itself.
    private static func conflict(_ error: any Error) -> any Error {
        if let error = error as? PSQLError, let conflict = CharterError(uniqueViolation: error) { return conflict }
        return error
    }

    /// Runs a statement CharterStorage built, on a connection already leased.
    /// - Parameter counting: whether to count the rows it changes (an UPDATE's compare-and-swap).
    /// - Returns: the number of rows it changed when `counting`, else 0.
    @discardableResult
    func run(_ statement: StoredStatement, _ connection: PostgresConnection, counting: Bool = false) async throws
        -> Int
    {
        var binds = PostgresBindings(capacity: statement.values.count)
        for value in statement.values {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let integer): binds.append(integer)
            case .bytes(let bytes): binds.append(bytes.map { ByteBuffer(bytes: $0) })
            }
        }
        let query = PostgresQuery(unsafeSQL: statement.numberedSQL + (counting ? " RETURNING 1" : ""), binds: binds)
        var changed = 0
        for try await _ in try await connection.query(query, logger: logger) { changed += 1 }
        return changed
    }

    /// Every row `query` returns.
    func rows(_ query: PostgresQuery) async throws -> [PostgresStoredRow] {
        try await collect(client.query(query, logger: logger))
    }

    /// Every row `query` returns, on a connection already leased (inside a transaction).
    func rows(_ query: PostgresQuery, _ connection: PostgresConnection) async throws -> [PostgresStoredRow] {
        try await collect(connection.query(query, logger: logger))
    }

    /// The first column of the first row, if any. Every row is read, as postgres-nio needs before the
    /// connection goes back to the pool, so callers ask for one row.
    func one<Value: PostgresDecodable & Sendable>(_ type: Value.Type, _ query: PostgresQuery) async throws -> Value? {
        var first: Value?
        for try await value in try await client.query(query, logger: logger).decode(Value.self) where first == nil {
            first = value
        }
        return first
    }

    private func collect(_ sequence: PostgresRowSequence) async throws -> [PostgresStoredRow] {
        var rows: [PostgresStoredRow] = []
        for try await row in sequence { rows.append(PostgresStoredRow(row.makeRandomAccess())) }
        return rows
    }
}

/// The database could not be connected to: why, in the server's words when it gave any. Never the password.
public struct PostgresConnectionError: Error, CustomStringConvertible {
    public let description: String

    init(url: PostgresURL, _ error: any Error) {
        let reason =
            if let error = error as? PSQLError {
                error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? "\(error.code)"
            } else {
                "\(error)"
            }
        description = "cannot connect to \(url): \(reason)"
    }
}

extension CharterError {
    /// The conflict a uniqueness violation (SQLSTATE 23505) stands for; nil for any other error.
    ///
    /// Only the constraint's name is read; the client sees a fixed sentence, never a stored value.
    init?(uniqueViolation error: PSQLError) {
        guard let info = error.serverInfo, info[.sqlState] == "23505" else { return nil }
        switch info[.constraintName] {
        case "api_keys_unique_label": self.init(.conflict, "the app already has a key with this label")
        case "apps_unique_name":
            self.init(.conflict, "the organization already has an app with this name in this environment")
        case "envelopes_unique_name": self.init(.conflict, "the app already has an envelope with this name")
        default: self.init(.conflict, "this would duplicate an existing record")
        }
    }
}
