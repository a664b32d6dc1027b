import CharterCore
import Foundation
import GRDB
import UCAN

/// Appending to and reading the hash-chained `audit_records` table.
enum AuditTable {
    /// Appends events inside the caller's write transaction, each linked to the head of its organization's chain.
    ///
    /// SQLite runs one write transaction at a time, so the heads and the next seq read here cannot change
    /// before the transaction commits: two writers can never both extend the same record.
    static func append(_ events: [AuditEvent], _ db: Database) throws {
        var seq = try nextSeq(db)
        var heads: [String?: [UInt8]] = [:]
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO audit_records (seq, org_id, time_ms, environment, key_id, action, target, outcome,
                    reason, ip, request_id, details, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for event in events {
            let previous = try heads[event.orgID] ?? head(of: event.orgID, db)
            let hash = AuditChain.hash(seq: seq, event: event, previous: previous)
            try insert.execute(
                arguments: [
                    seq, event.orgID, StoredValue.time(event.time), event.environment?.rawValue, event.keyID,
                    event.action,
                    event.target, event.outcome.rawValue, event.reason, event.ip, event.requestID,
                    StoredValue.details(event), Data(previous),
                    Data(hash),
                ])
            heads[event.orgID] = hash
            seq += 1
        }
    }

    /// The number the next record gets: past every seq ever used, even by a record since deleted.
    ///
    /// The seq is hashed, so it must be known before the insert; this is the value AUTOINCREMENT would pick.
    private static func nextSeq(_ db: Database) throws -> Int64 {
        let sql = """
            SELECT MAX(
                COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_records'), 0),
                COALESCE((SELECT MAX(seq) FROM audit_records), 0))
            """
        return (try Int64.fetchOne(db.cachedStatement(sql: sql)) ?? 0) + 1
    }

    /// The hash of the chain's last record, or the genesis hash for a chain not yet started.
    private static func head(of orgID: String?, _ db: Database) throws -> [UInt8] {
        let hash = try Data.fetchOne(
            db.cachedStatement(sql: "SELECT hash FROM audit_records WHERE org_id IS ? ORDER BY seq DESC LIMIT 1"),
            arguments: [orgID])
        return hash.map(Array.init) ?? AuditChain.genesis
    }
}
