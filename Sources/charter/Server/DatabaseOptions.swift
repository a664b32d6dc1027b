import ArgumentParser
import CharterCore
import CharterPostgres
import CharterSQLite
import Foundation
import Logging

/// `--database`, shared by every command that opens the store.
struct DatabaseOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Database URL: a path or sqlite:PATH (default ./charter.db), or postgres://USER:PASSWORD@HOST:PORT/DB.",
            discussion: """
                PostgreSQL options: sslmode (disable, prefer, require, verify-ca, verify-full), sslrootcert, \
                pool_max_connections, pool_min_connections, connect_timeout, pool_idle_timeout. \
                The password may come from PGPASSWORD instead.
                """))
    var database = "./charter.db"

    /// Where the URL points.
    enum Location {
        case sqlite(path: String)
        case postgres(PostgresURL)
    }

    func validate() throws { _ = try location() }

    func location() throws -> Location {
        if PostgresURL.isPostgres(database) {
            do {
                return .postgres(try PostgresURL(database))
            } catch let error as PostgresURLError {
                throw ValidationError(error.description)
            }
        }
        let path = database.hasPrefix("sqlite:") ? String(database.dropFirst("sqlite:".count)) : database
        guard !path.isEmpty else { throw ValidationError("--database names no file") }
        return .sqlite(path: path)
    }

    /// Runs `body` on the store the URL names, with the store's services running (see ``StoreBackend``).
    func withStore<T>(_ body: (any Store) async throws -> T) async throws -> T {
        let store = try await openStore()
        return try await store.withServices { try await body(store) }
    }

    /// Opens the store the URL names; nothing can be queried until its services run.
    func openStore() async throws -> any Store {
        switch try location() {
        case .sqlite(let path):
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: directory) else {
                throw ValidationError("the directory \(directory) does not exist")
            }
            return try SQLiteStore(path: path)
        case .postgres(let url):
            return try await PostgresStore.connect(url: url, logger: Logger(label: "charter.postgres"))
        }
    }

    /// The master key file used when none is named: beside a SQLite database. PostgreSQL has none, since
    /// every replica must be given the same key.
    func defaultMasterKeyFile() throws -> String? {
        switch try location() {
        case .sqlite(let path): MasterKey.defaultFile(forDatabase: path)
        case .postgres: nil
        }
    }
}
