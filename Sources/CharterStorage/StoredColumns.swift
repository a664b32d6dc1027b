public import CharterCore
import Foundation
import UCAN

/// A value as written to a column, in the encodings ``StoredValue`` defines: what both databases store.
public enum ColumnValue: Sendable, Hashable {
    case text(String?)
    case integer(Int64?)
    case bytes([UInt8]?)
}

/// A row to write: its table, and each column's name and value, in order. Every model's row is spelled here
/// once; each store only runs the statements these build, with its own placeholders.
public struct StoredColumns: Sendable {
    public let table: String
    public private(set) var names: [String] = []
    public private(set) var values: [ColumnValue] = []

    init(_ table: String, _ columns: KeyValuePairs<String, ColumnValue>) {
        self.table = table
        for (name, value) in columns {
            names.append(name)
            values.append(value)
        }
    }

    /// The values of the columns `names` lists, in that order.
    func values(of selected: [String]) -> [ColumnValue] {
        selected.map { name in values[names.firstIndex(of: name)!] }
    }
}

/// A statement and its values; `?` marks each value's place, in order.
public struct StoredStatement: Sendable {
    /// The SQL with `?` placeholders (the statements built here contain no other `?`).
    public let sql: String
    public let values: [ColumnValue]

    /// One statement inserting every row of `rows`, which must share a table and columns.
    public static func insert(_ rows: some Collection<StoredColumns>) -> StoredStatement {
        let first = rows.first!
        let row = "(" + Array(repeating: "?", count: first.names.count).joined(separator: ", ") + ")"
        return StoredStatement(
            sql: "INSERT INTO \(first.table) (\(first.names.joined(separator: ", "))) VALUES "
                + Array(repeating: row, count: rows.count).joined(separator: ", "),
            values: rows.flatMap(\.values))
    }

    public static func insert(_ row: StoredColumns) -> StoredStatement { insert(CollectionOfOne(row)) }

    /// The SQL with PostgreSQL's numbered placeholders, `$1`, `$2`, ….
    public var numberedSQL: String {
        var number = 0
        return sql.split(separator: "?", omittingEmptySubsequences: false).enumerated().map { index, part in
            guard index > 0 else { return String(part) }
            number += 1
            return "$\(number)" + part
        }.joined()
    }
}

extension Organization {
    public var storedColumns: StoredColumns {
        StoredColumns(
            "organizations",
            ["id": .text(id), "name": .text(name), "created_at": .integer(StoredValue.time(createdAt))])
    }
}

extension App {
    public var storedColumns: StoredColumns {
        StoredColumns(
            "apps",
            [
                "id": .text(id), "org_id": .text(orgID), "name": .text(name),
                "environment": .text(environment.rawValue),
                "created_at": .integer(StoredValue.time(createdAt)), "created_by": .text(createdBy),
            ])
    }
}

extension APIKey {
    public var storedColumns: StoredColumns {
        StoredColumns(
            "api_keys",
            [
                "id": .text(id), "org_id": .text(orgID), "app_id": .text(appID),
                "environment": .text(environment.rawValue), "label": .text(label), "prefix": .text(prefix),
                "role": .text(role?.rawValue), "permissions": .text(StoredValue.permissions(self)),
                "secret_hash": .bytes(secretHash), "created_at": .integer(StoredValue.time(createdAt)),
                "created_by": .text(createdBy), "expires_at": .integer(StoredValue.time(expiresAt)),
                "revoked_at": .integer(StoredValue.time(revokedAt)), "revoked_by": .text(revokedBy),
                "last_used_at": .integer(StoredValue.time(lastUsedAt)), "usage_count": .integer(usageCount),
                "ip_allowlist": .text(StoredValue.ipAllowlist(self)),
                "allowed_endpoints": .text(StoredValue.list(allowedEndpoints)),
                "rate_limit_per_minute": .integer(rateLimitPerMinute.map(Int64.init)),
                "version": .integer(Int64(version)),
            ])
    }

    /// The columns an update may change: never the identity, secret, creation or usage columns.
    static let mutableColumns = [
        "label", "role", "permissions", "expires_at", "revoked_at", "revoked_by", "ip_allowlist", "allowed_endpoints",
        "rate_limit_per_minute", "version",
    ]

    /// Replaces the key's mutable columns if its stored version is `expectedVersion`; it changes one row or none.
    public func update(expectedVersion: Int) -> StoredStatement {
        StoredStatement(
            sql: "UPDATE api_keys SET " + Self.mutableColumns.map { "\($0) = ?" }.joined(separator: ", ")
                + " WHERE id = ? AND org_id = ? AND version = ?",
            values: storedColumns.values(of: Self.mutableColumns) + [
                .text(id), .text(orgID), .integer(Int64(expectedVersion)),
            ])
    }
}

extension Envelope {
    public var storedColumns: StoredColumns {
        StoredColumns(
            "envelopes",
            [
                "id": .text(id), "org_id": .text(orgID), "app_id": .text(appID),
                "environment": .text(environment.rawValue), "name": .text(name),
                "capabilities": .text(StoredValue.capabilities(self)),
                "commands": .text(String(decoding: DAGJSON.encode(commands.ipld), as: UTF8.self)),
                "audiences": .text(String(decoding: audiences.json.serialized(), as: UTF8.self)),
                "max_ttl_seconds": .integer(Int64(maxTTLSeconds)),
                "created_at": .integer(StoredValue.time(createdAt)), "created_by": .text(createdBy),
                "revoked_at": .integer(StoredValue.time(revokedAt)), "revoked_by": .text(revokedBy),
            ])
    }
}

extension SigningKeyRecord {
    public var storedColumns: StoredColumns {
        StoredColumns(
            "signing_keys",
            [
                "id": .text(id), "org_id": .text(orgID), "environment": .text(environment.rawValue),
                "did": .text(did.string), "sealed_seed": .bytes(sealedSeed),
                "created_at": .integer(StoredValue.time(createdAt)),
                "retired_at": .integer(StoredValue.time(retiredAt)),
                "verify_until": .integer(StoredValue.time(verifyUntil)),
            ])
    }
}

extension RevocationEntry {
    /// The entry's row without its `seq`, which the database hands out.
    public var storedColumns: StoredColumns {
        StoredColumns(
            "revocations",
            [
                "org_id": .text(orgID), "environment": .text(environment.rawValue), "kind": .text(kind.rawValue),
                "subject": .text(subject), "issuer": .text(issuer.string), "challenge": .bytes(challenge),
                "revoked_at": .integer(StoredValue.time(revokedAt)),
                "covers_until": .integer(StoredValue.time(coversUntil)),
            ])
    }
}

extension DashboardSession {
    public var storedColumns: StoredColumns {
        StoredColumns(
            "dashboard_sessions",
            [
                "id": .bytes(id), "key_hash": .bytes(keyHash), "key_id": .text(keyID), "org_id": .text(organizationID),
                "created_at": .integer(StoredValue.time(createdAt)), "last_seen": .integer(StoredValue.time(lastSeen)),
            ])
    }
}

/// Appending to the hash-chained `audit_records` table, the same on every store.
public enum AuditRows {
    /// The rows that append `events`, numbered from `firstSeq`, each linked to the head of its organization's
    /// chain: the last hash in `heads` (as the store read it, with no write committing between that read and
    /// these rows), then each new record in turn. A chain missing from `heads` starts at the genesis hash.
    public static func link(_ events: [AuditEvent], firstSeq: Int64, heads: [String?: [UInt8]]) -> [StoredColumns] {
        var heads = heads
        return events.enumerated().map { offset, event in
            let seq = firstSeq + Int64(offset)
            let previous = heads[event.orgID] ?? AuditChain.genesis
            let details = JSONValue.object(event.details).serialized()
            let hash = AuditChain.hash(seq: seq, event: event, details: details, previous: previous)
            heads[event.orgID] = hash
            return StoredColumns(
                "audit_records",
                [
                    "seq": .integer(seq), "org_id": .text(event.orgID),
                    "time_ms": .integer(StoredValue.time(event.time)),
                    "environment": .text(event.environment?.rawValue), "key_id": .text(event.keyID),
                    "action": .text(event.action), "target": .text(event.target),
                    "outcome": .text(event.outcome.rawValue), "reason": .text(event.reason), "ip": .text(event.ip),
                    "request_id": .text(event.requestID), "details": .text(String(decoding: details, as: UTF8.self)),
                    "previous_hash": .bytes(previous), "hash": .bytes(hash),
                ])
        }
    }

    /// The chains `events` extend, whose heads the store must read first.
    public static func chains(of events: [AuditEvent]) -> Set<String?> { Set(events.map(\.orgID)) }
}
