import ArgumentParser
import CharterCore
import CharterServer
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `charter serve`: the control plane over HTTP, initializing the database on first start.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API. On an empty database, initializes it first and prints the owner key once.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(
        name: .customLong("trusted-proxy"),
        help: "A proxy network (CIDR) whose X-Forwarded-For is believed; repeat for several.")
    var trustedProxies: [String] = []

    @Option(
        help: ArgumentHelp(
            "The URL clients reach this server at, such as https://charter.example.com: the OAuth issuer.",
            discussion: """
                Named in /.well-known/oauth-authorization-server as the issuer and the base of its endpoints. \
                Without it, each request's own URL is used, which a proxy that rewrites Host would change.
                """))
    var publicURL: String?

    @Option(
        help: ArgumentHelp(
            "File holding the master key that seals signing keys (SQLite default: the database path + .master-key).",
            discussion: """
                For SQLite, created with mode 0600 on first start. PostgreSQL replicas must all be given the same \
                key, here or in CHARTER_MASTER_KEY (which, if set, is used instead of any file).
                """))
    var masterKeyFile: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        for text in trustedProxies { _ = try CIDR(text, field: "--trusted-proxy") }
        if let publicURL {
            guard Audiences.isResourceURL(publicURL), URL(string: publicURL)?.query == nil else {
                throw ValidationError("--public-url must be an http(s) URL without a query or fragment")
            }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "charter")

        let store = try await database.openStore()
        let defaultMasterKeyFile = try database.defaultMasterKeyFile()
        let (masterKeyFile, host, port) = (masterKeyFile ?? defaultMasterKeyFile, host, port)
        let trustedProxies = try trustedProxies.map { try CIDR($0) }
        let publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        // After the store's services in the group: they start first and stop after the server's last write.
        let server = StartThenServe {
            if let created = try await Setup(store: store, clock: .system).initialize() {
                Created(created).print(json: false)
            }
            // Only a SQLite database gets a key file made for it: replicas must never each invent their own.
            let sealedKeysExist = try await !store.signingKeys().isEmpty
            let masterKey = try MasterKey.load(
                environment: ProcessInfo.processInfo.environment, file: masterKeyFile,
                create: defaultMasterKeyFile != nil && !sealedKeysExist)
            let controlPlane = ControlPlane(store: store, masterKey: masterKey)
            try await controlPlane.signingKeys.checkMasterKey()
            return CharterHTTPServer.application(
                controlPlane: controlPlane,
                configuration: ServerConfiguration(
                    host: host, port: port, trustedProxies: trustedProxies,
                    publicURL: publicURL),
                metrics: { registry.emitToString() }, logger: logger,
                onServerRunning: { port in
                    logger.notice("listening", metadata: ["address": "http://\(host):\(port)"])
                    // Unbuffered, so whoever started the server can read the port at once.
                    FileHandle.standardOutput.write(Data("charter listening on http://\(host):\(port)\n".utf8))
                })
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: (store.services + [server]).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.notice("stopped")
    }
}

/// Prepares the application once the services before it in the group run, then runs it: start-up queries the
/// store, which answers only while its services run.
private struct StartThenServe<App: Service>: Service {
    let start: @Sendable () async throws -> App

    init(_ start: @escaping @Sendable () async throws -> App) { self.start = start }

    func run() async throws { try await start().run() }
}
