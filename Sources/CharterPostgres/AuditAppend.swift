import CharterCore
import CharterStorage
import Logging
import NIOCore
import PostgresNIO

/// Appending to the hash-chained `audit_records` table.
enum AuditAppend {
    /// Appends events inside the caller's write transaction, each linked to the head of its organization's chain.
    ///
    /// The transaction already holds the write lock, and READ COMMITTED reads each statement against what
    /// had committed when it began, so the heads read here are the last records anyone committed.
    static func append(_ events: [AuditEvent], _ connection: PostgresConnection, store: PostgresStore) async throws {
        guard !events.isEmpty else { return }
        let logger = store.logger
        let count = Int64(events.count)
        var last: Int64?
        for try await value in try await connection.execute(NextAuditSeqs(count: count), logger: logger) {
            last = value
        }
        guard let last else { throw CorruptRow("audit_counter") }
        var heads: [String?: [UInt8]] = [:]
        for chain in AuditRows.chains(of: events) {
            heads[chain] = try await head(of: chain, connection, logger: logger)
        }
        let rows = AuditRows.link(events, firstSeq: last - count + 1, heads: heads)
        // A bounded message per statement, however long the queue a flush stores.
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = Array(rows[start..<min(start + rowsPerStatement, rows.count)])
            _ = try await connection.execute(InsertAuditRecords(rows: chunk), logger: logger)
        }
    }

    static let rowsPerStatement = 1000

    /// The hash of the chain's last record, or the genesis hash for a chain not yet started.
    static func head(of orgID: String?, _ connection: PostgresConnection, logger: Logger) async throws
        -> [UInt8]
    {
        let hashes =
            if let orgID {
                try await connection.execute(ChainHead(orgID: orgID), logger: logger)
            } else {
                try await connection.execute(UnattributedChainHead(), logger: logger)
            }
        var head = AuditChain.genesis
        for try await hash in hashes { head = Array(hash.readableBytesView) }
        return head
    }
}
