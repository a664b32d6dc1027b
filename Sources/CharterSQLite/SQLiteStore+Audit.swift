public import CharterCore
import GRDB

extension SQLiteStore {
    public func appendAudit(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in try AuditTable.append(events, db) }
    }

    public func auditRecords(orgID: String, query: AuditQuery) async throws -> [AuditRecord] {
        var conditions = ["org_id = ?"]
        var arguments: StatementArguments = [orgID]
        if let keyID = query.keyID {
            conditions.append("key_id = ?")
            arguments += [keyID]
        }
        if let action = query.action {
            conditions.append("action = ?")
            arguments += [action]
        }
        if let outcome = query.outcome {
            conditions.append("outcome = ?")
            arguments += [outcome.rawValue]
        }
        if let since = query.since {
            conditions.append("time_ms >= ?")
            arguments += [AuditChain.milliseconds(since)]
        }
        if let until = query.until {
            conditions.append("time_ms <= ?")
            arguments += [AuditChain.milliseconds(until)]
        }
        if let before = query.before {
            conditions.append("seq < ?")
            arguments += [before]
        }
        arguments += [query.limit]
        let sql = "SELECT * FROM audit_records WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC LIMIT ?"
        let finalArguments = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(AuditTable.record)
        }
    }

    public func auditChains() async throws -> [String?] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT DISTINCT org_id FROM audit_records ORDER BY org_id").map { $0["org_id"] }
        }
    }

    public func auditChain(orgID: String?, after seq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_records WHERE org_id IS ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [orgID, seq, limit]
            ).map(AuditTable.record)
        }
    }
}
