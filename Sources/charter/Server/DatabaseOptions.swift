import ArgumentParser
import CharterCore
import CharterSQLite
import Foundation

/// `--database`, shared by every command that opens the store.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Database URL: a path or sqlite:PATH (default ./charter.db).")
    var database = "./charter.db"

    /// Opens the store the URL names. PostgreSQL arrives with the replicas issue.
    func openStore() throws -> any Store {
        let path = try sqlitePath()
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ValidationError("the directory \(directory) does not exist")
        }
        return try SQLiteStore(path: path)
    }

    /// The SQLite file the URL names.
    func sqlitePath() throws -> String {
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            throw ValidationError("PostgreSQL is not supported yet; use a path or sqlite:PATH")
        }
        let path = database.hasPrefix("sqlite:") ? String(database.dropFirst("sqlite:".count)) : database
        guard !path.isEmpty else { throw ValidationError("--database names no file") }
        return path
    }
}
