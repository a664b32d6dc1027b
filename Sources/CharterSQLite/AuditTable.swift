import CharterCore
import CharterStorage
import Foundation
import GRDB

/// Appending to the hash-chained `audit_records` table.
enum AuditTable {
    /// Appends events inside the caller's write transaction, each linked to the head of its organization's chain.
    ///
    /// SQLite runs one write transaction at a time, so the heads and the next seq read here cannot change
    /// before the transaction commits: two writers can never both extend the same record.
    static func append(_ events: [AuditEvent], _ db: Database) throws {
        guard !events.isEmpty else { return }
        var heads: [String?: [UInt8]] = [:]
        for chain in AuditRows.chains(of: events) { heads[chain] = try head(of: chain, db) }
        let rows = AuditRows.link(events, firstSeq: try nextSeq(db), heads: heads)
        // One prepared single-row statement for them all: measured cheaper per mint than one statement of many
        // rows, whose text (and cache key) differs with every batch size.
        let insert = try db.cachedStatement(sql: StoredStatement.insert(rows[0]).sql)
        for row in rows { try insert.execute(arguments: Rows.arguments(row.values)) }
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
