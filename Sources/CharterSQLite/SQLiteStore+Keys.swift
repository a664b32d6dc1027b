public import CharterCore
import Foundation
import GRDB

extension SQLiteStore {
    public func createKey(_ key: APIKey, audit: AuditEvent) async throws {
        try await write { db in
            try Rows.insert(key, db)
            try AuditTable.append([audit], db)
        }
    }

    public func key(id: String, orgID: String) async throws -> APIKey? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ? AND org_id = ?", arguments: [id, orgID])
                .map(Rows.key)
        }
    }

    public func key(secretHash: [UInt8]) async throws -> APIKey? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE secret_hash = ?", arguments: [Data(secretHash)])
                .map(Rows.key)
        }
    }

    public func keys(orgID: String, filter: KeyFilter) async throws -> [APIKey] {
        let rows = try await pool.read { db in
            if let appID = filter.appID {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM api_keys WHERE org_id = ? AND app_id = ? ORDER BY created_at, id",
                    arguments: [orgID, appID])
            }
            return try Row.fetchAll(
                db, sql: "SELECT * FROM api_keys WHERE org_id = ? ORDER BY created_at, id", arguments: [orgID])
        }
        return try rows.map(Rows.key).filter(filter.matches)
    }

    public func updateKey(_ key: APIKey, expectedVersion: Int, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE api_keys SET label = ?, role = ?, permissions = ?, expires_at = ?, revoked_at = ?,
                        revoked_by = ?, ip_allowlist = ?, allowed_endpoints = ?, rate_limit_per_minute = ?, version = ?
                    WHERE id = ? AND org_id = ? AND version = ?
                    """,
                arguments: [
                    key.label, key.role?.rawValue, Rows.list(key.permissions.sorted().map(\.rawValue)),
                    Rows.time(key.expiresAt), Rows.time(key.revokedAt), key.revokedBy,
                    Rows.list(key.ipAllowlist.map(\.description)), Rows.list(key.allowedEndpoints),
                    key.rateLimitPerMinute, key.version, key.id, key.orgID, expectedVersion,
                ])
            guard db.changesCount == 1 else { return false }
            try AuditTable.append([audit], db)
            return true
        }
    }

    public func recordUsage(_ usage: [String: KeyUsage]) async throws {
        try await pool.write { db in
            for (keyID, entry) in usage {
                try db.execute(
                    sql: """
                        UPDATE api_keys SET usage_count = usage_count + ?,
                            last_used_at = MAX(COALESCE(last_used_at, 0), ?)
                        WHERE id = ?
                        """,
                    arguments: [entry.count, Rows.time(entry.lastUsedAt), keyID])
            }
        }
    }
}
