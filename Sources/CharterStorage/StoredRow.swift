public import CharterCore
public import Foundation
import UCAN

/// A row read back from a store, one column at a time: what SQLite and PostgreSQL rows have in common.
///
/// Both stores use the same column names and encodings (times as epoch milliseconds, lists as JSON arrays
/// of strings, hashes as bytes), so the models are decoded in one place, here, and the stores cannot
/// disagree about what a row means.
public protocol StoredRow {
    /// The column as text; nil for NULL.
    /// - Throws: ``CorruptRow`` when the column is missing or not text.
    func text(_ column: String) throws -> String?
    /// The column as an integer; nil for NULL.
    func integer(_ column: String) throws -> Int64?
    /// The column as bytes; nil for NULL.
    func bytes(_ column: String) throws -> [UInt8]?
}

/// A stored value that does not decode: the database was edited by something other than Charter.
///
/// Names the column, never the value, so it is safe to log.
public struct CorruptRow: Error, CustomStringConvertible {
    public let column: String

    public init(_ column: String) { self.column = column }

    public var description: String { "a stored \(column) could not be read" }
}

extension StoredRow {
    func string(_ column: String) throws -> String {
        guard let value = try text(column) else { throw CorruptRow(column) }
        return value
    }

    func int64(_ column: String) throws -> Int64 {
        guard let value = try integer(column) else { throw CorruptRow(column) }
        return value
    }

    func int(_ column: String) throws -> Int {
        guard let value = try integer(column), let int = Int(exactly: value) else { throw CorruptRow(column) }
        return int
    }

    func optionalInt(_ column: String) throws -> Int? {
        guard let value = try integer(column) else { return nil }
        guard let int = Int(exactly: value) else { throw CorruptRow(column) }
        return int
    }

    func requiredBytes(_ column: String) throws -> [UInt8] {
        guard let value = try bytes(column) else { throw CorruptRow(column) }
        return value
    }

    func date(_ column: String) throws -> Date {
        guard let date = try optionalDate(column) else { throw CorruptRow(column) }
        return date
    }

    func optionalDate(_ column: String) throws -> Date? {
        guard let milliseconds = try integer(column) else { return nil }
        guard (-StoredValue.latestTime...StoredValue.latestTime).contains(milliseconds) else {
            throw CorruptRow(column)
        }
        return StoredValue.date(milliseconds)
    }

    func environment(_ column: String = "environment") throws -> Environment {
        guard let environment = Environment(rawValue: try string(column)) else { throw CorruptRow(column) }
        return environment
    }

    func strings(_ column: String) throws -> [String] {
        guard case .array(let items) = try? JSONParser.parse(try string(column)) else { throw CorruptRow(column) }
        return try items.map { item in
            guard case .string(let text) = item else { throw CorruptRow(column) }
            return text
        }
    }

    func did(_ column: String) throws -> DID {
        guard let did = try? DID(try string(column)) else { throw CorruptRow(column) }
        return did
    }
}

/// How model values are written into columns; the inverse of what ``StoredRow`` reads.
public enum StoredValue {
    public static func time(_ date: Date) -> Int64 { AuditChain.milliseconds(date) }
    public static func time(_ date: Date?) -> Int64? { date.map(AuditChain.milliseconds) }

    /// The date `milliseconds` stands for, chosen so that `AuditChain.milliseconds` gives the same number back.
    ///
    /// A record's hash covers its time in milliseconds, so a time that read back one millisecond off would
    /// break the chain. `Date` counts from 2001, and for earlier times the plain quotient can land a hair
    /// below the millisecond; the smallest step up fixes that and changes nothing for later times.
    public static func date(_ milliseconds: Int64) -> Date {
        var date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        while AuditChain.milliseconds(date) < milliseconds {
            date = Date(timeIntervalSinceReferenceDate: date.timeIntervalSinceReferenceDate.nextUp)
        }
        return date
    }

    /// The latest time stored, the end of year 9999: anything beyond was not written by Charter.
    static let latestTime: Int64 = 253_402_300_799_999

    public static func list(_ strings: [String]) -> String {
        String(decoding: JSONValue.array(strings.map(JSONValue.string)).serialized(), as: UTF8.self)
    }

    /// The key's permissions, sorted so equal sets are stored as equal text.
    public static func permissions(_ key: APIKey) -> String { list(key.permissions.sorted().map(\.rawValue)) }

    /// The key's networks in canonical CIDR form.
    public static func ipAllowlist(_ key: APIKey) -> String { list(key.ipAllowlist.map(\.description)) }

    public static func capabilities(_ envelope: Envelope) -> String {
        String(decoding: envelope.capabilities.json.serialized(), as: UTF8.self)
    }
}

extension Organization {
    /// Decodes a row of `organizations`.
    public init(row: some StoredRow) throws {
        self.init(id: try row.string("id"), name: try row.string("name"), createdAt: try row.date("created_at"))
    }
}

extension App {
    /// Decodes a row of `apps`.
    public init(row: some StoredRow) throws {
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), name: try row.string("name"),
            environment: try row.environment(), createdAt: try row.date("created_at"),
            createdBy: try row.text("created_by"))
    }
}

extension APIKey {
    /// Decodes a row of `api_keys`.
    public init(row: some StoredRow) throws {
        let permissions = try row.strings("permissions").map { name in
            guard let permission = Permission(rawValue: name) else { throw CorruptRow("permissions") }
            return permission
        }
        let role = try row.text("role").map { name in
            guard let role = Role(rawValue: name) else { throw CorruptRow("role") }
            return role
        }
        // CIDR's own error quotes the text; a stored value must not reach a client that way.
        let networks = try row.strings("ip_allowlist").map { text in
            guard let network = try? CIDR(text) else { throw CorruptRow("ip_allowlist") }
            return network
        }
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), appID: try row.string("app_id"),
            environment: try row.environment(), label: try row.string("label"), prefix: try row.string("prefix"),
            role: role, permissions: Set(permissions), secretHash: try row.requiredBytes("secret_hash"),
            createdAt: try row.date("created_at"), createdBy: try row.text("created_by"),
            expiresAt: try row.optionalDate("expires_at"), revokedAt: try row.optionalDate("revoked_at"),
            revokedBy: try row.text("revoked_by"), lastUsedAt: try row.optionalDate("last_used_at"),
            usageCount: try row.int64("usage_count"), ipAllowlist: networks,
            allowedEndpoints: try row.strings("allowed_endpoints"),
            rateLimitPerMinute: try row.optionalInt("rate_limit_per_minute"), version: try row.int("version"))
    }
}

extension Envelope {
    /// Decodes a row of `envelopes`.
    public init(row: some StoredRow) throws {
        let capabilities: Capabilities
        do {
            capabilities = try Capabilities(json: JSONParser.parse(try row.string("capabilities")))
        } catch {
            throw CorruptRow("capabilities")
        }
        let commands: CommandGrants
        do {
            commands = try CommandGrants(ipld: DAGJSON.decode(Array(try row.string("commands").utf8)))
        } catch {
            throw CorruptRow("commands")
        }
        let audiences: Audiences
        do {
            audiences = try Audiences(json: JSONParser.parse(try row.string("audiences")))
        } catch {
            throw CorruptRow("audiences")
        }
        self.init(
            id: try row.string("id"), orgID: try row.string("org_id"), appID: try row.string("app_id"),
            environment: try row.environment(), name: try row.string("name"), capabilities: capabilities,
            commands: commands, audiences: audiences, maxTTLSeconds: try row.int("max_ttl_seconds"),
            createdAt: try row.date("created_at"),
            createdBy: try row.text("created_by"), revokedAt: try row.optionalDate("revoked_at"),
            revokedBy: try row.text("revoked_by"))
    }
}

extension SigningKeyRecord {
    /// Decodes a row of `signing_keys`.
    public init(row: some StoredRow) throws {
        self.init(
            id: try row.string("id"), orgID: try row.text("org_id"), environment: try row.environment(),
            did: try row.did("did"), sealedSeed: try row.requiredBytes("sealed_seed"),
            createdAt: try row.date("created_at"),
            retiredAt: try row.optionalDate("retired_at"), verifyUntil: try row.optionalDate("verify_until"))
    }
}

extension MintedToken {
    /// Decodes a row of `minted_tokens`.
    public init(row: some StoredRow) throws {
        guard let cid = try? CID(try row.string("cid")) else { throw CorruptRow("cid") }
        self.init(
            cid: cid, orgID: try row.string("org_id"), appID: try row.string("app_id"),
            environment: try row.environment(), envelopeID: try row.string("envelope_id"),
            keyID: try row.string("key_id"), signingKeyID: try row.string("signing_key_id"),
            audience: try row.did("audience"), createdAt: try row.date("created_at"),
            expiresAt: try row.date("expires_at"), revokedAt: try row.optionalDate("revoked_at"))
    }
}

extension RevocationEntry {
    /// Decodes a row of `revocations`.
    public init(row: some StoredRow) throws {
        guard let kind = RevocationEntry.Kind(rawValue: try row.string("kind")) else { throw CorruptRow("kind") }
        self.init(
            seq: try row.int64("seq"), orgID: try row.string("org_id"), environment: try row.environment(),
            kind: kind, subject: try row.string("subject"), issuer: try row.did("issuer"),
            challenge: try row.requiredBytes("challenge"), revokedAt: try row.date("revoked_at"),
            coversUntil: try row.date("covers_until"))
    }
}

extension AuditRecord {
    /// Decodes a row of `audit_records`.
    public init(row: some StoredRow) throws {
        guard let outcome = AuditEvent.Outcome(rawValue: try row.string("outcome")) else {
            throw CorruptRow("outcome")
        }
        // Charter wrote this JSON itself, so it may nest deeper than untrusted input is allowed to.
        guard case .object(let details) = try? JSONParser.parse(try row.string("details"), maxDepth: 128) else {
            throw CorruptRow("details")
        }
        let environment = try row.text("environment").map { name in
            guard let environment = Environment(rawValue: name) else { throw CorruptRow("environment") }
            return environment
        }
        let event = AuditEvent(
            time: try row.date("time_ms"), orgID: try row.text("org_id"), environment: environment,
            keyID: try row.text("key_id"), action: try row.string("action"), target: try row.text("target"),
            outcome: outcome, reason: try row.text("reason"), ip: try row.text("ip"),
            requestID: try row.text("request_id"), details: details)
        self.init(
            seq: try row.int64("seq"), event: event, previousHash: try row.requiredBytes("previous_hash"),
            hash: try row.requiredBytes("hash"))
    }
}

extension DashboardSession {
    /// Decodes a row of `dashboard_sessions`.
    public init(row: some StoredRow) throws {
        self.init(
            id: try row.requiredBytes("id"), keyHash: try row.requiredBytes("key_hash"),
            keyID: try row.string("key_id"), organizationID: try row.string("org_id"),
            createdAt: try row.date("created_at"), lastSeen: try row.date("last_seen"))
    }
}
