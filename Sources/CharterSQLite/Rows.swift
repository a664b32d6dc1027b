import CharterCore
import Foundation
import GRDB
import UCAN

/// Converting models to and from rows: times as epoch milliseconds, lists as JSON arrays.
enum Rows {
    static func time(_ date: Date) -> Int64 { AuditChain.milliseconds(date) }
    static func time(_ date: Date?) -> Int64? { date.map(AuditChain.milliseconds) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
    static func date(_ milliseconds: Int64?) -> Date? { milliseconds.map(date) }

    static func list(_ strings: [String]) -> String {
        String(decoding: JSONValue.array(strings.map(JSONValue.string)).serialized(), as: UTF8.self)
    }

    static func strings(_ text: String) throws -> [String] {
        guard case .array(let items) = try JSONParser.parse(Array(text.utf8)) else { throw CorruptRow("list") }
        return try items.map { item in
            guard case .string(let text) = item else { throw CorruptRow("list entry") }
            return text
        }
    }

    static func insert(_ app: App, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO apps (id, org_id, name, environment, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [app.id, app.orgID, app.name, app.environment.rawValue, time(app.createdAt), app.createdBy])
    }

    static func app(_ row: Row) throws -> App {
        guard let environment = Environment(rawValue: row["environment"]) else { throw CorruptRow("environment") }
        return App(
            id: row["id"], orgID: row["org_id"], name: row["name"], environment: environment,
            createdAt: date(row["created_at"] as Int64), createdBy: row["created_by"])
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
                list(key.permissions.sorted().map(\.rawValue)), Data(key.secretHash), time(key.createdAt),
                key.createdBy, time(key.expiresAt), time(key.revokedAt), key.revokedBy, time(key.lastUsedAt),
                key.usageCount, list(key.ipAllowlist.map(\.description)), list(key.allowedEndpoints),
                key.rateLimitPerMinute, key.version,
            ])
    }

    static func key(_ row: Row) throws -> APIKey {
        guard let environment = Environment(rawValue: row["environment"]) else { throw CorruptRow("environment") }
        let permissions = try strings(row["permissions"]).map { name in
            guard let permission = Permission(rawValue: name) else { throw CorruptRow("permission") }
            return permission
        }
        let role: Role? = try (row["role"] as String?).map { name in
            guard let role = Role(rawValue: name) else { throw CorruptRow("role") }
            return role
        }
        return APIKey(
            id: row["id"], orgID: row["org_id"], appID: row["app_id"], environment: environment, label: row["label"],
            prefix: row["prefix"], role: role, permissions: Set(permissions),
            secretHash: Array(row["secret_hash"] as Data), createdAt: date(row["created_at"] as Int64),
            createdBy: row["created_by"], expiresAt: date(row["expires_at"] as Int64?),
            revokedAt: date(row["revoked_at"] as Int64?), revokedBy: row["revoked_by"],
            lastUsedAt: date(row["last_used_at"] as Int64?), usageCount: row["usage_count"],
            ipAllowlist: try strings(row["ip_allowlist"]).map { try CIDR($0) },
            allowedEndpoints: try strings(row["allowed_endpoints"]), rateLimitPerMinute: row["rate_limit_per_minute"],
            version: row["version"])
    }
}

/// A stored value that does not decode: the file was edited by something other than Charter.
struct CorruptRow: Error, CustomStringConvertible {
    let column: String
    init(_ column: String) { self.column = column }
    var description: String { "a stored \(column) could not be read" }
}
