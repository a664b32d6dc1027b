import CharterCore
import Foundation
import GRDB
import UCAN

/// Converting models to and from rows: times as epoch milliseconds, lists as JSON arrays of strings.
enum Rows {
    static func time(_ date: Date) -> Int64 { AuditChain.milliseconds(date) }
    static func time(_ date: Date?) -> Int64? { date.map(AuditChain.milliseconds) }

    /// The date `milliseconds` stands for, chosen so that `AuditChain.milliseconds` gives the same number back.
    ///
    /// A record's hash covers its time in milliseconds, so a time that read back one millisecond off would
    /// break the chain. `Date` counts from 2001, and for earlier times the plain quotient can land a hair
    /// below the millisecond; the smallest step up fixes that and changes nothing for later times.
    static func date(_ milliseconds: Int64) -> Date {
        var date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        while AuditChain.milliseconds(date) < milliseconds {
            date = Date(timeIntervalSinceReferenceDate: date.timeIntervalSinceReferenceDate.nextUp)
        }
        return date
    }

    /// The latest time stored, the end of year 9999: anything beyond was not written by Charter.
    static let latestTime: Int64 = 253_402_300_799_999

    static func date(_ row: Row, _ column: String) throws -> Date {
        guard let date = try optionalDate(row, column) else { throw CorruptRow(column) }
        return date
    }

    static func optionalDate(_ row: Row, _ column: String) throws -> Date? {
        guard let milliseconds = try row.decoded(column) as Int64? else { return nil }
        guard (-latestTime...latestTime).contains(milliseconds) else { throw CorruptRow(column) }
        return date(milliseconds)
    }

    static func list(_ strings: [String]) -> String {
        String(decoding: JSONValue.array(strings.map(JSONValue.string)).serialized(), as: UTF8.self)
    }

    static func strings(_ text: String) throws -> [String] {
        guard case .array(let items) = try? JSONParser.parse(text) else { throw CorruptRow("list") }
        return try items.map { item in
            guard case .string(let text) = item else { throw CorruptRow("list") }
            return text
        }
    }

    static func environment(_ name: String) throws -> Environment {
        guard let environment = Environment(rawValue: name) else { throw CorruptRow("environment") }
        return environment
    }

    static func insert(_ organization: Organization, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
            arguments: [organization.id, organization.name, time(organization.createdAt)])
    }

    static func organization(_ row: Row) throws -> Organization {
        Organization(id: try row.decoded("id"), name: try row.decoded("name"), createdAt: try date(row, "created_at"))
    }

    static func insert(_ app: App, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO apps (id, org_id, name, environment, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [app.id, app.orgID, app.name, app.environment.rawValue, time(app.createdAt), app.createdBy])
    }

    static func app(_ row: Row) throws -> App {
        App(
            id: try row.decoded("id"), orgID: try row.decoded("org_id"), name: try row.decoded("name"),
            environment: try environment(row.decoded("environment")), createdAt: try date(row, "created_at"),
            createdBy: try row.decoded("created_by"))
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
                permissions(key), Data(key.secretHash), time(key.createdAt), key.createdBy, time(key.expiresAt),
                time(key.revokedAt), key.revokedBy, time(key.lastUsedAt), key.usageCount, ipAllowlist(key),
                list(key.allowedEndpoints), key.rateLimitPerMinute, key.version,
            ])
    }

    /// The key's permissions, sorted so equal sets are stored as equal text.
    static func permissions(_ key: APIKey) -> String { list(key.permissions.sorted().map(\.rawValue)) }

    /// The key's networks in canonical CIDR form.
    static func ipAllowlist(_ key: APIKey) -> String { list(key.ipAllowlist.map(\.description)) }

    static func key(_ row: Row) throws -> APIKey {
        let permissions = try strings(row.decoded("permissions")).map { name in
            guard let permission = Permission(rawValue: name) else { throw CorruptRow("permissions") }
            return permission
        }
        let role = try (row.decoded("role") as String?).map { name in
            guard let role = Role(rawValue: name) else { throw CorruptRow("role") }
            return role
        }
        // CIDR's own error quotes the text; a stored value must not reach a client that way.
        let networks = try strings(row.decoded("ip_allowlist")).map { text in
            guard let network = try? CIDR(text) else { throw CorruptRow("ip_allowlist") }
            return network
        }
        return APIKey(
            id: try row.decoded("id"), orgID: try row.decoded("org_id"), appID: try row.decoded("app_id"),
            environment: try environment(row.decoded("environment")), label: try row.decoded("label"),
            prefix: try row.decoded("prefix"), role: role, permissions: Set(permissions),
            secretHash: Array(try row.decoded("secret_hash") as Data), createdAt: try date(row, "created_at"),
            createdBy: try row.decoded("created_by"), expiresAt: try optionalDate(row, "expires_at"),
            revokedAt: try optionalDate(row, "revoked_at"), revokedBy: try row.decoded("revoked_by"),
            lastUsedAt: try optionalDate(row, "last_used_at"), usageCount: try row.decoded("usage_count"),
            ipAllowlist: networks, allowedEndpoints: try strings(row.decoded("allowed_endpoints")),
            rateLimitPerMinute: try row.decoded("rate_limit_per_minute"), version: try row.decoded("version"))
    }
}

extension Rows {
    static func envelope(_ row: Row) throws -> Envelope {
        let capabilities: Capabilities
        do {
            capabilities = try Capabilities(json: JSONParser.parse(row.decoded("capabilities") as String))
        } catch {
            throw CorruptRow("capabilities")
        }
        return Envelope(
            id: try row.decoded("id"), orgID: try row.decoded("org_id"), appID: try row.decoded("app_id"),
            environment: try environment(row.decoded("environment")), name: try row.decoded("name"),
            capabilities: capabilities, maxTTLSeconds: try row.decoded("max_ttl_seconds"),
            createdAt: try date(row, "created_at"), createdBy: try row.decoded("created_by"),
            revokedAt: try optionalDate(row, "revoked_at"), revokedBy: try row.decoded("revoked_by"))
    }

    static func did(_ row: Row, _ column: String) throws -> DID {
        guard let did = try? DID(row.decoded(column) as String) else { throw CorruptRow(column) }
        return did
    }

    static func signingKey(_ row: Row) throws -> SigningKeyRecord {
        SigningKeyRecord(
            id: try row.decoded("id"), environment: try environment(row.decoded("environment")),
            did: try did(row, "did"), sealedSeed: Array(try row.decoded("sealed_seed") as Data),
            createdAt: try date(row, "created_at"), retiredAt: try optionalDate(row, "retired_at"),
            verifyUntil: try optionalDate(row, "verify_until"))
    }

    static func mintedToken(_ row: Row) throws -> MintedToken {
        guard let cid = try? CID(row.decoded("cid") as String) else { throw CorruptRow("cid") }
        return MintedToken(
            cid: cid, orgID: try row.decoded("org_id"), appID: try row.decoded("app_id"),
            environment: try environment(row.decoded("environment")), envelopeID: try row.decoded("envelope_id"),
            keyID: try row.decoded("key_id"), signingKeyID: try row.decoded("signing_key_id"),
            audience: try did(row, "audience"), createdAt: try date(row, "created_at"),
            expiresAt: try date(row, "expires_at"), revokedAt: try optionalDate(row, "revoked_at"))
    }

    static func insert(_ entry: RevocationEntry, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO revocations (org_id, environment, kind, subject, issuer, challenge, revoked_at, covers_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.orgID, entry.environment.rawValue, entry.kind.rawValue, entry.subject, entry.issuer.string,
                Data(entry.challenge), time(entry.revokedAt), time(entry.coversUntil),
            ])
    }

    static func revocation(_ row: Row) throws -> RevocationEntry {
        guard let kind = RevocationEntry.Kind(rawValue: try row.decoded("kind")) else { throw CorruptRow("kind") }
        return RevocationEntry(
            seq: try row.decoded("seq"), orgID: try row.decoded("org_id"),
            environment: try environment(row.decoded("environment")), kind: kind, subject: try row.decoded("subject"),
            issuer: try did(row, "issuer"), challenge: Array(try row.decoded("challenge") as Data),
            revokedAt: try date(row, "revoked_at"), coversUntil: try date(row, "covers_until"))
    }
}
