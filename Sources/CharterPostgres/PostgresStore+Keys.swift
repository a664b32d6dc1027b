public import CharterCore
import CharterStorage
import NIOCore
import PostgresNIO

extension PostgresStore {
    public func createKey(_ key: APIKey, audit: AuditEvent) async throws {
        try await write { connection in
            try await run(.insert(key.storedColumns), connection)
            try await AuditAppend.append([audit], connection, store: self)
        }
    }

    public func key(id: String, orgID: String) async throws -> APIKey? {
        try await rows("SELECT * FROM api_keys WHERE id = \(id) AND org_id = \(orgID)").first.map(APIKey.init(row:))
    }

    public func key(secretHash: [UInt8]) async throws -> APIKey? {
        try await rows("SELECT * FROM api_keys WHERE secret_hash = \(ByteBuffer(bytes: secretHash))").first
            .map(APIKey.init(row:))
    }

    /// SQL narrows by organization and app; status and expiry are judged by `KeyFilter.matches` itself, so
    /// this store cannot disagree with it.
    public func keys(orgID: String, filter: KeyFilter) async throws -> [APIKey] {
        let query: PostgresQuery =
            if let appID = filter.appID {
                "SELECT * FROM api_keys WHERE org_id = \(orgID) AND app_id = \(appID) ORDER BY created_at, id"
            } else {
                "SELECT * FROM api_keys WHERE org_id = \(orgID) ORDER BY created_at, id"
            }
        return try await rows(query).map(APIKey.init(row:)).filter(filter.matches)
    }

    public func keys(ids: Set<String>, orgID: String) async throws -> [APIKey] {
        guard !ids.isEmpty else { return [] }
        return try await rows("SELECT * FROM api_keys WHERE org_id = \(orgID) AND id = ANY(\(ids.sorted())::text[])")
            .map(APIKey.init(row:))
    }

    /// Other replicas drop their cached copy of the key before this returns.
    public func updateKey(_ key: APIKey, expectedVersion: Int, audit: AuditEvent) async throws -> Bool {
        try await write(announcing: [.key(id: key.id)]) { connection in
            let updated = try await run(key.update(expectedVersion: expectedVersion), connection, counting: true)
            guard updated == 1 else { return false }
            try await AuditAppend.append([audit], connection, store: self)
            return true
        }
    }

    /// Adds a batch of usage in one statement; counts from every replica add up, and a last-used time only
    /// ever moves forward.
    ///
    /// Usage is a statistic, not an audited change, so it does not take the write lock and never waits behind
    /// a mint or a revocation. Rows are locked in id order first, so two replicas flushing the same keys cannot
    /// deadlock each other.
    public func recordUsage(_ usage: [String: KeyUsage]) async throws {
        guard !usage.isEmpty else { return }
        let ids = usage.keys.sorted()
        let counts = ids.map { usage[$0]!.count }
        let times = ids.map { StoredValue.time(usage[$0]!.lastUsedAt) }
        try await transaction { connection in
            _ = try await connection.query(
                """
                WITH locked AS (SELECT id FROM api_keys WHERE id = ANY(\(ids)::text[]) ORDER BY id FOR UPDATE)
                UPDATE api_keys SET usage_count = api_keys.usage_count + batch.count,
                    last_used_at = GREATEST(COALESCE(api_keys.last_used_at, batch.used), batch.used)
                FROM UNNEST(\(ids)::text[], \(counts)::bigint[], \(times)::bigint[]) AS batch (id, count, used)
                WHERE api_keys.id = batch.id AND api_keys.id IN (SELECT id FROM locked)
                """, logger: self.logger)
        }
    }
}
