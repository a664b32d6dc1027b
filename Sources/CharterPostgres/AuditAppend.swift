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
        let chains = AuditRows.chains(of: events)
        let organizations = chains.compactMap { $0 }
        var heads: [String?: [UInt8]] = [:]
        if !organizations.isEmpty {
            for try await hashes in try await connection.execute(
                ChainHeads(organizations: organizations), logger: logger)
            {
                heads = ChainHeads.heads(organizations, from: hashes)
            }
        }
        if chains.contains(nil) { heads[nil] = try await unattributedHead(connection, logger: logger) }
        let rows = AuditRows.link(events, firstSeq: last - count + 1, heads: heads)
        // A bounded message per statement, however long the queue a flush stores.
        for start in stride(from: 0, to: rows.count, by: rowsPerStatement) {
            let chunk = Array(rows[start..<min(start + rowsPerStatement, rows.count)])
            _ = try await connection.execute(InsertAuditRecords(rows: chunk), logger: logger)
        }
    }

    static let rowsPerStatement = 1000

    /// The hash of the last record no organization owns, if there is one.
    static func unattributedHead(_ connection: PostgresConnection, logger: Logger) async throws -> [UInt8]? {
        var head: [UInt8]?
        for try await hash in try await connection.execute(UnattributedChainHead(), logger: logger) {
            head = Array(hash.readableBytesView)
        }
        return head
    }
}
