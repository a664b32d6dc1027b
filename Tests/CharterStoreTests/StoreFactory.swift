import CharterCore
import CharterPostgres
import CharterSQLite
import CharterTestSupport
import Foundation
import Logging

/// One store implementation under test: SQLite always, PostgreSQL when the test command started a server.
struct StoreFactory: Sendable, CustomStringConvertible {
    /// A fresh, empty store, and what to do when the test is done with it.
    typealias Instance = (store: any Store, dispose: @Sendable () -> Void)

    let description: String
    let make: @Sendable () async throws -> Instance

    /// Runs `body` against a fresh, migrated store with its services running, then disposes of it.
    func withStore(_ body: (any Store) async throws -> Void) async throws {
        let (store, dispose) = try await make()
        defer { dispose() }
        try await store.withServices {
            try await store.migrate()
            try await body(store)
        }
    }

    static let sqlite = StoreFactory(description: "SQLite") {
        let database = try TemporaryDatabase()
        return (try SQLiteStore(path: database.path), { database.remove() })
    }

    static let postgres = StoreFactory(description: "PostgreSQL") {
        let store = try await PostgresStore.connect(
            url: PostgresURL(try await TestPostgres.freshDatabase()), logger: Logger(label: "test"))
        return (store, {})
    }

    static let all: [StoreFactory] = TestPostgres.isAvailable ? [.sqlite, .postgres] : [.sqlite]
}

/// A database file in a directory of its own under the system's temporary directory.
struct TemporaryDatabase: Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var path: String { directory.appendingPathComponent("charter.db").path }

    /// Every byte SQLite has written: the database, its write-ahead log and shared memory index.
    func contents() throws -> Data {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .reduce(into: Data()) { data, file in data += try Data(contentsOf: file) }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
