import CharterCore
import CharterSQLite
import Foundation
import GRDB
import UCAN

/// The floor under any mint: one Ed25519 signature over a token-sized message, the SHA-256 that names the
/// token, and as many bytes as a mint stores appended durably to a `SQLiteStore` of its own (WAL,
/// `synchronous = FULL`, its checkpoints), committed in groups through the same ``GroupCommit`` and the same hops
/// (caller → the store's writer → caller) as mints.
///
/// No parsing, policy, envelope, token row, index, hash chain or audit record: only what no durable mint can do
/// without, so `mint ÷ floor` is what Charter's own work costs and `floor ÷ sign` is what no mint can go below.
final class DurableFloor: Sendable {
    /// What one mint stores: the token rows, audit records and their indexes of a bench database over its mints
    /// (226.8 MB over 208,656 mints, measured on 2026-12-06).
    static let bytesPerMint = 1_087
    /// The size of a minted token's signed part, as the floor routes sign.
    static let signedBytes = 575

    let store: SQLiteStore
    private let key = Ed25519.SigningKey()
    private let message = [UInt8](repeating: 0x61, count: signedBytes)
    private let commits: GroupCommit<[UInt8], Void>

    /// - Parameter path: a database file of the floor's own.
    init(path: String) async throws {
        let store = try SQLiteStore(path: path)
        try await store.write { db in
            try db.execute(sql: "CREATE TABLE floor (id INTEGER PRIMARY KEY, record BLOB NOT NULL)")
        }
        self.store = store
        commits = GroupCommit { records in
            try await store.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO floor (record) VALUES (?)")
                for record in records { try insert.execute(arguments: [Data(record)]) }
            }
            return records.map { _ in () }
        }
    }

    /// Signs, names and durably stores one token-sized record; returns its signature once the record is durable.
    @discardableResult
    func mint() async throws -> [UInt8] {
        let signature = key.signature(for: message)
        var record = message + signature
        record += SHA256.hash(record)
        record += [UInt8](repeating: 0x62, count: Self.bytesPerMint - record.count)
        try await commits.commit(record)
        return signature
    }
}
