import CharterCore
import Foundation
import UCAN

/// How models look on the wire. Key records never include the secret or its hash.
enum Representation {
    static func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.format($0)) } ?? .null }

    /// Members in byte order of their names, as ``JSONObjectWriter`` requires.
    static func key(_ key: APIKey, at now: Date, into json: inout JSONObjectWriter) {
        json.strings("allowed_endpoints", key.allowedEndpoints)
        json.string("app_id", key.appID)
        json.time("created_at", key.createdAt)
        json.string("created_by", key.createdBy)
        json.string("environment", key.environment.rawValue)
        json.time("expires_at", key.expiresAt)
        json.string("id", key.id)
        json.strings("ip_allowlist", key.ipAllowlist.lazy.map(\.description))
        json.string("label", key.label)
        json.time("last_used_at", key.lastUsedAt)
        json.strings(
            "permissions", Permission.inNameOrder.lazy.filter(key.permissions.contains).map(\.rawValue))
        json.string("prefix", key.prefix)
        json.integer("rate_limit_per_minute", key.rateLimitPerMinute.map(Int64.init))
        json.time("revoked_at", key.revokedAt)
        json.string("revoked_by", key.revokedBy)
        json.string("role", key.role?.rawValue)
        json.string("status", key.status(at: now).rawValue)
        json.integer("usage_count", key.usageCount)
    }

    static func app(_ app: App, into json: inout JSONObjectWriter) {
        json.time("created_at", app.createdAt)
        json.string("created_by", app.createdBy)
        json.string("environment", app.environment.rawValue)
        json.string("id", app.id)
        json.string("name", app.name)
    }

    static func organization(_ organization: Organization, into json: inout JSONObjectWriter) {
        json.time("created_at", organization.createdAt)
        json.string("id", organization.id)
        json.string("name", organization.name)
    }

    /// The hashed fields exactly as ``AuditChain`` hashes them, plus a readable time and the hashes,
    /// so anyone can re-check an export offline.
    static func audit(_ record: AuditRecord) -> JSONValue {
        guard case .object(var fields) = AuditChain.json(seq: record.seq, event: record.event) else { return .null }
        fields["time"] = time(record.event.time)
        fields["previous_hash"] = .string(hex(record.previousHash))
        fields["hash"] = .string(hex(record.hash))
        return .object(fields)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
