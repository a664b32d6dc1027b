public import Foundation
import NIOSSL
import PostgresNIO

/// A `postgres://user:password@host:port/database?option=value` URL, parsed and checked before anything connects.
///
/// Options (unknown ones are refused, so a typo is not silently ignored):
/// - `sslmode`: `disable`, `prefer` (the default, as with libpq), `require` (encrypted, certificate not checked),
///   `verify-ca` (certificate checked against `sslrootcert`), `verify-full` (certificate and host name checked).
/// - `sslrootcert`: a PEM file of trusted roots for `verify-ca` and `verify-full` (default: the system's).
/// - `pool_max_connections` (default 20), `pool_min_connections` (default 0), `connect_timeout` (seconds,
///   default 10), `pool_idle_timeout` (seconds, default 60).
///
/// The password may also come from `PGPASSWORD`, which keeps it off the command line. ``description``
/// never shows it.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    /// Never part of ``description``.
    public var password: String?
    public var database: String
    public var sslMode: SSLMode = .prefer
    public var sslRootCertificate: String?
    public var maximumConnections = 20
    public var minimumConnections = 0
    public var connectTimeout: Duration = .seconds(10)
    public var idleTimeout: Duration = .seconds(60)

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    /// - Parameter environment: where `PGPASSWORD` is looked up when the URL has no password.
    /// - Throws: ``PostgresURLError`` saying what is wrong; it never quotes the password.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw PostgresURLError("expected postgres://user:password@host:port/database")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError("the URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError("the URL names no user") }
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw PostgresURLError("the port must be 1...65535") }
        username = user
        password = components.password ?? environment["PGPASSWORD"]
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        for item in components.queryItems ?? [] {
            try apply(option: item.name, value: item.value ?? "")
        }
        guard minimumConnections <= maximumConnections else {
            throw PostgresURLError("pool_min_connections must not exceed pool_max_connections")
        }
    }

    private mutating func apply(option: String, value: String) throws {
        func count(_ range: ClosedRange<Int>) throws -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw PostgresURLError("\(option) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        switch option {
        case "sslmode":
            guard let mode = SSLMode(rawValue: value) else {
                throw PostgresURLError(
                    "sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        case "sslrootcert": sslRootCertificate = value
        case "pool_max_connections": maximumConnections = try count(1...1000)
        case "pool_min_connections": minimumConnections = try count(0...1000)
        case "connect_timeout": connectTimeout = .seconds(try count(1...3600))
        case "pool_idle_timeout": idleTimeout = .seconds(try count(1...86400))
        default: throw PostgresURLError("unknown option \(option)")
        }
    }

    /// The URL with the password masked, safe to log.
    public var description: String {
        let authority = password == nil ? username : "\(username):***"
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(authority)@\(shownHost):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// The TLS configuration ``sslMode`` asks for; nil for `disable`.
    func tlsConfiguration() throws -> TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return nil
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let sslRootCertificate, sslMode == .verifyCA || sslMode == .verifyFull {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(sslRootCertificate))
            } catch {
                throw PostgresURLError("sslrootcert \(sslRootCertificate) is not a readable PEM file")
            }
        }
        return configuration
    }

    /// The connection pool's configuration.
    func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch try tlsConfiguration() {
            case nil: .disable
            case let configuration? where sslMode == .prefer: .prefer(configuration)
            case let configuration?: .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = minimumConnections
        configuration.options.connectTimeout = connectTimeout
        configuration.options.connectionIdleTimeout = idleTimeout
        // Charter's named statements (PreparedStatements.swift) are planned once per connection, not once per
        // batch: by default PostgreSQL re-plans each for its arguments whenever it guesses that could pay. It
        // leaves unnamed statements, planned for their arguments every time, as they are. The write lock and the
        // mint batch's claim (PostgresStore.recordMints) rely on READ COMMITTED, whatever the server's default:
        // each statement sees what committed before it, and an UPDATE that waited for the lock re-checks the row.
        configuration.options.additionalStartupParameters = [
            ("application_name", "charter"), ("plan_cache_mode", "force_generic_plan"),
            ("default_transaction_isolation", "read committed"),
        ]
        return configuration
    }

    /// A single connection's configuration, for the change listener, which keeps its connection open.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch try tlsConfiguration() {
            case nil: .disable
            case let configuration? where sslMode == .prefer: .prefer(try NIOSSLContext(configuration: configuration))
            case let configuration?: .require(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(connectTimeout.components.seconds)
        configuration.options.additionalStartupParameters = [("application_name", "charter-listener")]
        return configuration
    }
}

/// A database URL that cannot be used, with the reason; never quotes the password.
public struct PostgresURLError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = "invalid PostgreSQL URL: \(description)" }
}
