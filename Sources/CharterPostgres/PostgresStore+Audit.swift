public import CharterCore
import CharterStorage
import PostgresNIO

extension PostgresStore {
    public func appendAudit(_ events: [AuditEvent]) async throws {
        guard !events.isEmpty else { return }
        try await write { connection in try await AuditAppend.append(events, connection, store: self) }
    }

    /// The organization's records matching `query`, newest first; `since` and `until` are inclusive.
    public func auditRecords(orgID: String, query: AuditQuery) async throws -> [AuditRecord] {
        var conditions = ["org_id = $1"]
        var bindings = PostgresBindings()
        bindings.append(orgID)
        func require(_ column: String, _ comparison: String, _ value: (some PostgresNonThrowingEncodable)?) {
            guard let value else { return }
            bindings.append(value)
            conditions.append("\(column) \(comparison) $\(bindings.count)")
        }
        require("key_id", "=", query.keyID)
        require("action", "=", query.action)
        require("outcome", "=", query.outcome?.rawValue)
        require("time_ms", ">=", query.since.map(StoredValue.time))
        require("time_ms", "<=", query.until.map(StoredValue.time))
        require("seq", "<", query.before)
        bindings.append(Int64(max(query.limit, 0)))
        let sql = """
            SELECT * FROM audit_records WHERE \(conditions.joined(separator: " AND "))
            ORDER BY seq DESC LIMIT $\(bindings.count)
            """
        return try await rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map(AuditRecord.init(row:))
    }

    public func auditChains() async throws -> [String?] {
        var chains: [String?] = []
        for try await orgID in try await client.query(
            "SELECT DISTINCT org_id FROM audit_records ORDER BY org_id NULLS FIRST", logger: logger
        ).decode(String?.self) {
            chains.append(orgID)
        }
        return chains
    }

    public func lastAuditSeq() async throws -> Int64 {
        try await one(Int64.self, "SELECT last_seq FROM audit_counter WHERE id = 1") ?? 0
    }

    public func auditChain(orgID: String?, after seq: Int64, limit: Int) async throws -> [AuditRecord] {
        let limit = Int64(max(limit, 0))
        let query: PostgresQuery =
            if let orgID {
                "SELECT * FROM audit_records WHERE org_id = \(orgID) AND seq > \(seq) ORDER BY seq LIMIT \(limit)"
            } else {
                "SELECT * FROM audit_records WHERE org_id IS NULL AND seq > \(seq) ORDER BY seq LIMIT \(limit)"
            }
        return try await rows(query).map(AuditRecord.init(row:))
    }
}
