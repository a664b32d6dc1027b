import CharterCore
import Foundation
import UCAN

/// How models look on the wire. Key records never include the secret or its hash.
enum Representation {
    static func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.format($0)) } ?? .null }
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    static func key(_ key: APIKey, at now: Date) -> JSONValue {
        [
            "id": .string(key.id),
            "app_id": .string(key.appID),
            "environment": .string(key.environment.rawValue),
            "label": .string(key.label),
            "prefix": .string(key.prefix),
            "role": text(key.role?.rawValue),
            "permissions": .array(Permission.inNameOrder.filter(key.permissions.contains).map { .string($0.rawValue) }),
            "status": .string(key.status(at: now).rawValue),
            "created_at": time(key.createdAt),
            "created_by": text(key.createdBy),
            "expires_at": time(key.expiresAt),
            "revoked_at": time(key.revokedAt),
            "revoked_by": text(key.revokedBy),
            "last_used_at": time(key.lastUsedAt),
            "usage_count": .integer(key.usageCount),
            "ip_allowlist": .array(key.ipAllowlist.map { .string($0.description) }),
            "allowed_endpoints": .array(key.allowedEndpoints.map(JSONValue.string)),
            "rate_limit_per_minute": key.rateLimitPerMinute.map { .integer(Int64($0)) } ?? .null,
        ]
    }

    static func app(_ app: App) -> JSONValue {
        [
            "id": .string(app.id),
            "name": .string(app.name),
            "environment": .string(app.environment.rawValue),
            "created_at": time(app.createdAt),
            "created_by": text(app.createdBy),
        ]
    }

    static func organization(_ organization: Organization) -> JSONValue {
        [
            "id": .string(organization.id), "name": .string(organization.name),
            "created_at": time(organization.createdAt),
        ]
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
