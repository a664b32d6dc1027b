import CharterCore
import Foundation
import GRDB
import UCAN

/// Appending to and reading the hash-chained audit table.
enum AuditTable {
    /// Appends events inside the caller's write transaction, each linked to its organization's chain head.
    static func append(_ events: [AuditEvent], _ db: Database) throws {
        var next = (try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM audit_records") ?? 0) + 1
        for event in events {
            let previous =
                try Data.fetchOne(
                    db, sql: "SELECT hash FROM audit_records WHERE org_id IS ? ORDER BY seq DESC LIMIT 1",
                    arguments: [event.orgID]
                ).map(Array.init) ?? AuditChain.genesis
            let hash = AuditChain.hash(seq: next, event: event, previous: previous)
            try db.execute(
                sql: """
                    INSERT INTO audit_records (seq, org_id, time_ms, environment, key_id, action, target, outcome,
                        reason, ip, request_id, details, previous_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    next, event.orgID, Rows.time(event.time), event.environment?.rawValue, event.keyID, event.action,
                    event.target, event.outcome.rawValue, event.reason, event.ip, event.requestID,
                    String(decoding: JSONValue.object(event.details).serialized(), as: UTF8.self), Data(previous),
                    Data(hash),
                ])
            next += 1
        }
    }

    static func record(_ row: Row) throws -> AuditRecord {
        guard let outcome = AuditEvent.Outcome(rawValue: row["outcome"]) else { throw CorruptRow("outcome") }
        guard case .object(let details) = try JSONParser.parse(Array((row["details"] as String).utf8)) else {
            throw CorruptRow("details")
        }
        let environment: Environment? = try (row["environment"] as String?).map { name in
            guard let environment = Environment(rawValue: name) else { throw CorruptRow("environment") }
            return environment
        }
        let event = AuditEvent(
            time: Rows.date(row["time_ms"] as Int64), orgID: row["org_id"], environment: environment,
            keyID: row["key_id"], action: row["action"], target: row["target"], outcome: outcome,
            reason: row["reason"], ip: row["ip"], requestID: row["request_id"], details: details)
        return AuditRecord(
            seq: row["seq"], event: event, previousHash: Array(row["previous_hash"] as Data),
            hash: Array(row["hash"] as Data))
    }
}
