import CharterPostgres
import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL server `make test` starts (scripts/postgres.sh), handed to the tests in
/// `CHARTER_TEST_POSTGRES_URL`: each test gets a database of its own on it.
public enum TestPostgres {
    /// The server's URL; nil when no server was started and this is not CI.
    public static var baseURL: String? {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["CHARTER_TEST_POSTGRES_URL"], !url.isEmpty { return url }
        // On CI the PostgreSQL half of the suite must run: a missing server fails it instead of skipping.
        return environment["CI"] == nil ? nil : "postgres://missing"
    }

    /// Whether the PostgreSQL tests run.
    public static var isAvailable: Bool { baseURL != nil }

    /// The PEM file of the CA that signed the test server's certificate (for localhost and 127.0.0.1).
    public static var certificateAuthority: String? { ProcessInfo.processInfo.environment["CHARTER_TEST_POSTGRES_CA"] }

    /// The first column of the first row `sql` returns on the database `url` names, as text.
    /// - Parameter session: statements run first on the same connection, such as `SET …`.
    public static func scalar(_ url: String, _ sql: String, session: [String] = []) async throws -> String? {
        let connection = try await connect(try PostgresURL(url))
        do {
            for statement in session {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            // Every row is read: leaving a result half-read and closing the connection hangs postgres-nio.
            var values: [String?] = []
            for try await text in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                .decode(String?.self)
            {
                values.append(text)
            }
            let value = values.first ?? nil
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static let logger = Logger(label: "test-postgres")

    private static func connect(_ url: PostgresURL) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.username, password: url.password,
                database: url.database, tls: .disable),
            id: 1, logger: logger)
    }

    /// The URL of a new, empty database on the test server, as `--database` takes it.
    /// - Throws: when no server was started (on CI) or it cannot be reached.
    public static func freshDatabase() async throws -> String {
        guard let text = baseURL, text != "postgres://missing" else {
            throw TestPostgresError("CHARTER_TEST_POSTGRES_URL is not set: run the suite with `make test`")
        }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let connection = try await connect(try PostgresURL(text))
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
        var components = URLComponents(string: text)
        components?.path = "/" + name
        guard let fresh = components?.string else { throw TestPostgresError("the test server's URL is malformed") }
        return fresh
    }
}

struct TestPostgresError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
