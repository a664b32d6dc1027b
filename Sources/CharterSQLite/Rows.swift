import CharterCore
import Foundation
import GRDB
import UCAN

/// Writing models into rows, in the encodings ``StoredValue`` defines; reading goes through ``StoredRow``.
enum Rows {
    static func insert(_ organization: Organization, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
            arguments: [organization.id, organization.name, StoredValue.time(organization.createdAt)])
    }

    static func insert(_ app: App, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO apps (id, org_id, name, environment, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                app.id, app.orgID, app.name, app.environment.rawValue, StoredValue.time(app.createdAt), app.createdBy,
            ])
    }

    static func insert(_ key: APIKey, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO api_keys (id, org_id, app_id, environment, label, prefix, role, permissions, secret_hash,
                    created_at, created_by, expires_at, revoked_at, revoked_by, last_used_at, usage_count,
                    ip_allowlist, allowed_endpoints, rate_limit_per_minute, version)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, key.orgID, key.appID, key.environment.rawValue, key.label, key.prefix, key.role?.rawValue,
                StoredValue.permissions(key), Data(key.secretHash), StoredValue.time(key.createdAt), key.createdBy,
                StoredValue.time(key.expiresAt), StoredValue.time(key.revokedAt), key.revokedBy,
                StoredValue.time(key.lastUsedAt), key.usageCount, StoredValue.ipAllowlist(key),
                StoredValue.list(key.allowedEndpoints), key.rateLimitPerMinute, key.version,
            ])
    }

    static func insert(_ entry: RevocationEntry, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO revocations (org_id, environment, kind, subject, issuer, challenge, revoked_at, covers_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.orgID, entry.environment.rawValue, entry.kind.rawValue, entry.subject, entry.issuer.string,
                Data(entry.challenge), StoredValue.time(entry.revokedAt), StoredValue.time(entry.coversUntil),
            ])
    }
}
