public import CharterCore
import CharterStorage
import GRDB

extension SQLiteStore {
    /// Appends events that change no other state, in one transaction: a batch is durable all at once or not at all.
    public func appendAudit(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in try AuditTable.append(events, db) }
    }

    /// The organization's records matching `query`, newest first; `since` and `until` are inclusive.
    public func auditRecords(orgID: String, query: AuditQuery) async throws -> [AuditRecord] {
        var conditions = ["org_id = ?"]
        var arguments: StatementArguments = [orgID]
        func require(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            conditions.append(condition)
            arguments += [value]
        }
        require("key_id = ?", query.keyID)
        require("action = ?", query.action)
        require("outcome = ?", query.outcome?.rawValue)
        require("time_ms >= ?", query.since.map(StoredValue.time))
        require("time_ms <= ?", query.until.map(StoredValue.time))
        require("seq < ?", query.before)
        arguments += [max(query.limit, 0)]
        let sql = """
            SELECT * FROM audit_records WHERE \(conditions.joined(separator: " AND "))
            ORDER BY seq DESC LIMIT ?
            """
        let bound = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map { try AuditRecord(row: SQLiteRow($0)) }
        }
    }

    /// The organization ids that have records; nil stands for the chain of unattributed events.
    public func auditChains() async throws -> [String?] {
        try await pool.read { db in
            try String?.fetchAll(db, sql: "SELECT DISTINCT org_id FROM audit_records ORDER BY org_id")
        }
    }

    public func lastAuditSeq() async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit_records'") ?? 0
        }
    }

    /// One chain's records after `seq`, oldest first, at most `limit` of them.
    public func auditChain(orgID: String?, after seq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_records WHERE org_id IS ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [orgID, seq, max(limit, 0)]
            ).map { try AuditRecord(row: SQLiteRow($0)) }
        }
    }
}
