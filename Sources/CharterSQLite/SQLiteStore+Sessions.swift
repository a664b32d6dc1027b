public import CharterCore
import CharterStorage
public import Foundation
import GRDB

extension SQLiteStore {
    /// SQLite runs one write transaction at a time, so the caps are checked and kept in one step.
    public func startSession(_ session: DashboardSession, policy: SessionPolicy, at now: Date) async throws -> Bool {
        let (seen, created) = policy.cutoffs(at: now)
        let ended: StatementArguments = [StoredValue.time(seen) as Int64, StoredValue.time(created) as Int64]
        do {
            try await pool.write { db in
                for (column, owner, cap) in [
                    ("key_id", session.keyID, policy.perKey),
                    ("org_id", session.organizationID, policy.perOrganization),
                ] {
                    try db.execute(
                        sql: "DELETE FROM dashboard_sessions WHERE \(column) = ? AND (last_seen < ? OR created_at < ?)",
                        arguments: [owner] + ended)
                    try db.execute(
                        sql: """
                            DELETE FROM dashboard_sessions WHERE id IN (SELECT id FROM dashboard_sessions
                                WHERE \(column) = ? ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)
                            """,
                        arguments: [owner, max(cap - 1, 0)])
                }
                if try Self.sessionCount(db) >= policy.total {
                    try db.execute(
                        sql: "DELETE FROM dashboard_sessions WHERE last_seen < ? OR created_at < ?",
                        arguments: ended)
                    // Thrown, so the caps' deletions roll back with it: a refused sign-in ends no session.
                    guard try Self.sessionCount(db) < policy.total else { throw SessionsFull() }
                }
                try Rows.insert(session.storedColumns, db)
            }
            return true
        } catch is SessionsFull {
            return false
        }
    }

    public func session(id: [UInt8]) async throws -> DashboardSession? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dashboard_sessions WHERE id = ?", arguments: [Data(id)])
                .map { try DashboardSession(row: SQLiteRow($0)) }
        }
    }

    public func touchSession(id: [UInt8], at time: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE dashboard_sessions SET last_seen = MAX(last_seen, ?) WHERE id = ?",
                arguments: [StoredValue.time(time), Data(id)])
        }
    }

    public func endSession(id: [UInt8]) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM dashboard_sessions WHERE id = ?", arguments: [Data(id)])
        }
    }

    public func sessionCount(keyID: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dashboard_sessions WHERE key_id = ?", arguments: [keyID])
                ?? 0
        }
    }

    private static func sessionCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dashboard_sessions") ?? 0
    }
}

/// A sign-in refused because the store holds as many live sessions as it may.
private struct SessionsFull: Error {}
