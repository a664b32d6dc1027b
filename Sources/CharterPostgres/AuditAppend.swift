import CharterCore
import Logging
import NIOCore
import PostgresNIO

/// Appending to the hash-chained `audit_records` table.
enum AuditAppend {
    /// Rows per INSERT statement: 14 parameters each, well under PostgreSQL's 65,535.
    static let rowsPerStatement = 1000

    /// Appends events inside the caller's write transaction, each linked to the head of its organization's chain.
    ///
    /// The transaction already holds the write lock, and READ COMMITTED reads each statement against what
    /// had committed when it began, so the heads read here are the last records anyone committed.
    static func append(_ events: [AuditEvent], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        let count = Int64(events.count)
        var last: Int64?
        for try await value in try await connection.query(
            "UPDATE audit_counter SET last_seq = last_seq + \(count) WHERE id = 1 RETURNING last_seq", logger: logger
        ).decode(Int64.self) {
            last = value
        }
        guard let last else { throw CorruptRow("audit_counter") }
        var seq = last - count + 1
        var heads: [String?: [UInt8]] = [:]
        var start = events.startIndex
        while start < events.endIndex {
            let chunk = events[start..<min(start + rowsPerStatement, events.endIndex)]
            start = chunk.endIndex
            var bindings = PostgresBindings(capacity: chunk.count * 14)
            var rows: [String] = []
            rows.reserveCapacity(chunk.count)
            for event in chunk {
                let previous: [UInt8]
                if let known = heads[event.orgID] {
                    previous = known
                } else {
                    previous = try await head(of: event.orgID, connection, logger: logger)
                }
                let hash = AuditChain.hash(seq: seq, event: event, previous: previous)
                let first = bindings.count + 1
                rows.append("(" + (first..<first + 14).map { "$\($0)" }.joined(separator: ", ") + ")")
                bindings.append(seq)
                bindings.append(event.orgID)
                bindings.append(StoredValue.time(event.time))
                bindings.append(event.environment?.rawValue)
                bindings.append(event.keyID)
                bindings.append(event.action)
                bindings.append(event.target)
                bindings.append(event.outcome.rawValue)
                bindings.append(event.reason)
                bindings.append(event.ip)
                bindings.append(event.requestID)
                bindings.append(StoredValue.details(event))
                bindings.append(ByteBuffer(bytes: previous))
                bindings.append(ByteBuffer(bytes: hash))
                heads[event.orgID] = hash
                seq += 1
            }
            let sql = """
                INSERT INTO audit_records (seq, org_id, time_ms, environment, key_id, action, target, outcome,
                    reason, ip, request_id, details, previous_hash, hash)
                VALUES \(rows.joined(separator: ", "))
                """
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        }
    }

    /// The hash of the chain's last record, or the genesis hash for a chain not yet started.
    private static func head(of orgID: String?, _ connection: PostgresConnection, logger: Logger) async throws
        -> [UInt8]
    {
        let query: PostgresQuery =
            if let orgID {
                "SELECT hash FROM audit_records WHERE org_id = \(orgID) ORDER BY seq DESC LIMIT 1"
            } else {
                "SELECT hash FROM audit_records WHERE org_id IS NULL ORDER BY seq DESC LIMIT 1"
            }
        for try await hash in try await connection.query(query, logger: logger).decode(ByteBuffer.self) {
            return Array(hash.readableBytesView)
        }
        return AuditChain.genesis
    }
}
