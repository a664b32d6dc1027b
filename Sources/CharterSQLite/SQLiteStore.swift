public import CharterCore
import Foundation
import GRDB
import UCAN

/// The embedded default store: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// Writes are serialized by SQLite, so reading an audit chain's head and appending to it inside one
/// write transaction can never fork the chain.
public struct SQLiteStore: Store {
    let pool: DatabasePool

    /// Opens (creating if needed) the database file at `path`; its directory must exist.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.label = "charter"
        pool = try DatabasePool(path: path, configuration: configuration)
    }

    public func migrate() async throws {
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func organizationCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM organizations") ?? 0 }
    }

    public func createOrganization(
        _ organization: Organization, app: App, ownerKey: APIKey, audit: [AuditEvent], onlyIfEmpty: Bool
    ) async throws -> Bool {
        try await write { db in
            if onlyIfEmpty, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM organizations") ?? 0 > 0 { return false }
            try db.execute(
                sql: "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
                arguments: [organization.id, organization.name, Rows.time(organization.createdAt)])
            try Rows.insert(app, db)
            try Rows.insert(ownerKey, db)
            try AuditTable.append(audit, db)
            return true
        }
    }

    public func organization(id: String) async throws -> Organization? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM organizations WHERE id = ?", arguments: [id]).map { row in
                Organization(id: row["id"], name: row["name"], createdAt: Rows.date(row["created_at"]))
            }
        }
    }

    public func createApp(_ app: App, audit: AuditEvent) async throws {
        try await write { db in
            try Rows.insert(app, db)
            try AuditTable.append([audit], db)
        }
    }

    public func app(id: String, orgID: String) async throws -> App? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM apps WHERE id = ? AND org_id = ?", arguments: [id, orgID])
                .map(Rows.app)
        }
    }

    public func apps(orgID: String) async throws -> [App] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM apps WHERE org_id = ? ORDER BY created_at, id", arguments: [orgID])
                .map(Rows.app)
        }
    }

    /// A write transaction whose unique-constraint failures become `conflict` errors that name no value.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            let message = error.message ?? ""
            if message.contains("api_keys.app_id") || message.contains("api_keys.label") {
                throw CharterError(.conflict, "the app already has a key with this label")
            }
            if message.contains("apps.") {
                throw CharterError(.conflict, "the organization already has an app with this name in this environment")
            }
            throw CharterError(.conflict, "this would duplicate an existing record")
        }
    }
}
