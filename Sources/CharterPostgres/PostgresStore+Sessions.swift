public import CharterCore
import CharterStorage
public import Foundation
import NIOCore
import PostgresNIO

extension PostgresStore {
    /// Sign-ins take an advisory lock of their own, so replicas signing in at once cannot pass a cap together;
    /// they never wait for the write lock that audited changes take.
    public func startSession(_ session: DashboardSession, policy: SessionPolicy, at now: Date) async throws -> Bool {
        let (seen, created) = policy.cutoffs(at: now)
        let (seenBefore, createdBefore) = (StoredValue.time(seen), StoredValue.time(created))
        do {
            try await transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.sessionLock))", logger: logger)
                for (column, owner, cap) in [
                    ("key_id", session.keyID, policy.perKey),
                    ("org_id", session.organizationID, policy.perOrganization),
                ] {
                    var binds = PostgresBindings()
                    binds.append(owner)
                    binds.append(seenBefore)
                    binds.append(createdBefore)
                    binds.append(Int64(max(cap - 1, 0)))
                    // The column is one of the two names above, never input.
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                WITH ended AS (DELETE FROM dashboard_sessions
                                    WHERE \(column) = $1 AND (last_seen < $2 OR created_at < $3))
                                DELETE FROM dashboard_sessions WHERE id IN (SELECT id FROM dashboard_sessions
                                    WHERE \(column) = $1 AND last_seen >= $2 AND created_at >= $3
                                    ORDER BY created_at DESC, id DESC OFFSET $4)
                                """, binds: binds), logger: logger)
                }
                if try await count(connection) >= policy.total {
                    try await connection.query(
                        "DELETE FROM dashboard_sessions WHERE last_seen < \(seenBefore) OR created_at < \(createdBefore)",
                        logger: logger)
                    // Thrown, so the caps' deletions roll back with it: a refused sign-in ends no session.
                    guard try await count(connection) < policy.total else { throw SessionsFull() }
                }
                try await run(.insert(session.storedColumns), connection)
            }
            return true
        } catch is SessionsFull {
            return false
        }
    }

    public func session(id: [UInt8]) async throws -> DashboardSession? {
        try await rows("SELECT * FROM dashboard_sessions WHERE id = \(ByteBuffer(bytes: id))").first
            .map(DashboardSession.init(row:))
    }

    public func touchSession(id: [UInt8], at time: Date) async throws {
        try await client.query(
            """
            UPDATE dashboard_sessions SET last_seen = GREATEST(last_seen, \(StoredValue.time(time)))
            WHERE id = \(ByteBuffer(bytes: id))
            """, logger: logger)
    }

    public func endSession(id: [UInt8]) async throws {
        try await client.query("DELETE FROM dashboard_sessions WHERE id = \(ByteBuffer(bytes: id))", logger: logger)
    }

    public func sessionCount(keyID: String) async throws -> Int {
        Int(try await one(Int64.self, "SELECT COUNT(*) FROM dashboard_sessions WHERE key_id = \(keyID)") ?? 0)
    }

    private func count(_ connection: PostgresConnection) async throws -> Int {
        var total: Int64 = 0
        for try await value in try await connection.query("SELECT COUNT(*) FROM dashboard_sessions", logger: logger)
            .decode(Int64.self)
        {
            total = value
        }
        return Int(total)
    }
}

/// A sign-in refused because the store holds as many live sessions as it may.
private struct SessionsFull: Error {}
