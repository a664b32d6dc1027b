public import CharterCore
import CharterStorage
import Foundation
import GRDB

extension SQLiteStore {
    /// Stores a new key with its audit record.
    /// - Throws: ``CharterError`` `conflict` when its app already has a key with that label.
    public func createKey(_ key: APIKey, audit: AuditEvent) async throws {
        try await write { db in
            try Rows.insert(key.storedColumns, db)
            try AuditTable.append([audit], db)
        }
    }

    /// The key with this id, if it belongs to `orgID`.
    public func key(id: String, orgID: String) async throws -> APIKey? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ? AND org_id = ?", arguments: [id, orgID])
                .map { try APIKey(row: SQLiteRow($0)) }
        }
    }

    /// The key whose plaintext hashes to `secretHash`, whatever its status.
    public func key(secretHash: [UInt8]) async throws -> APIKey? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE secret_hash = ?", arguments: [Data(secretHash)])
                .map { try APIKey(row: SQLiteRow($0)) }
        }
    }

    /// The organization's keys matching `filter`, oldest first.
    ///
    /// SQL narrows by organization and app; status and expiry are judged by `KeyFilter.matches` itself, so
    /// this store cannot disagree with it.
    public func keys(orgID: String, filter: KeyFilter) async throws -> [APIKey] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM api_keys WHERE org_id = ? AND (? IS NULL OR app_id = ?)
                    ORDER BY created_at, id
                    """,
                arguments: [orgID, filter.appID, filter.appID]
            ).map { try APIKey(row: SQLiteRow($0)) }.filter(filter.matches)
        }
    }

    public func keys(ids: Set<String>, orgID: String) async throws -> [APIKey] {
        guard !ids.isEmpty else { return [] }
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM api_keys WHERE org_id = ? AND id IN (SELECT value FROM json_each(?))",
                arguments: [orgID, StoredValue.list(ids.sorted())]
            ).map { try APIKey(row: SQLiteRow($0)) }
        }
    }

    /// Replaces a key's mutable fields and records the change, if its stored version is `expectedVersion`.
    ///
    /// The id, organization, app, environment, prefix, secret hash, creation and usage columns never change.
    /// - Returns: false, writing nothing, when the version differs or the organization has no such key.
    /// - Throws: ``CharterError`` `conflict` when the new label is taken in the app.
    public func updateKey(_ key: APIKey, expectedVersion: Int, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            try Rows.execute(key.update(expectedVersion: expectedVersion), db)
            guard db.changesCount == 1 else { return false }
            try AuditTable.append([audit], db)
            return true
        }
    }

    /// Adds a batch of usage in one transaction; a last-used time only ever moves forward.
    ///
    /// Keys deleted or unknown are skipped: usage is a statistic, not a record.
    public func recordUsage(_ usage: [String: KeyUsage]) async throws {
        guard !usage.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE api_keys SET usage_count = usage_count + ?,
                        last_used_at = MAX(COALESCE(last_used_at, ?), ?)
                    WHERE id = ?
                    """)
            for (keyID, entry) in usage {
                let lastUsed = StoredValue.time(entry.lastUsedAt)
                try statement.execute(arguments: [entry.count, lastUsed, lastUsed, keyID])
            }
        }
    }
}
