public import CharterCore
public import CharterSQLite
import CharterServer
public import Foundation
import Hummingbird
import Logging
public import UCAN

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Charter server on loopback over SQLite in a fresh directory, for the SDKs' tests: they speak HTTP
/// to it as an app would, and set it up in-process through the services. A test can stop it mid-way.
public final class LiveCharter: Sendable {
    public let directory: URL
    public let store: SQLiteStore
    public let controlPlane: ControlPlane
    public let owner: Setup.Created
    public let url: URL
    private let server: Task<Void, any Error>

    private init(
        directory: URL, store: SQLiteStore, controlPlane: ControlPlane, owner: Setup.Created, url: URL,
        server: Task<Void, any Error>
    ) {
        self.directory = directory
        self.store = store
        self.controlPlane = controlPlane
        self.owner = owner
        self.url = url
        self.server = server
    }

    /// Creates the organization, starts the server on a free port and waits until it listens.
    /// - Parameter clock: the services' clock, for tests that move the server's time.
    public static func start(clock: CharterClock = .system) async throws -> LiveCharter {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "charter-sdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("charter.db").path)
        let owner = try await Setup(store: store, clock: .system).initialize()!
        let controlPlane = ControlPlane(store: store, masterKey: SecretBox.Key(), clock: clock)
        var logger = Logger(label: "live-charter")
        logger.logLevel = .critical
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = CharterHTTPServer.application(
            controlPlane: controlPlane,
            configuration: ServerConfiguration(port: 0, flushInterval: .seconds(3600)), logger: logger,
            onServerRunning: { port in sink.yield(port) })
        let server = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
        return LiveCharter(
            directory: directory, store: store, controlPlane: controlPlane, owner: owner,
            url: URL(string: "http://127.0.0.1:\(port)")!, server: server)
    }

    /// Stops the server; the database stays for inspection until ``remove()``.
    public func stop() async {
        server.cancel()
        _ = await server.result
    }

    /// Stops the server and deletes its files.
    public func remove() async {
        await stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The owner key's identity, for calling services in-process.
    public func ownerIdentity() async throws -> Identity {
        try await controlPlane.authenticator.authenticate(
            authorization: "Bearer \(owner.ownerKey)", ip: nil, path: "/v1/authorize")
    }

    /// Creates an envelope for the owner's app.
    @discardableResult
    public func createEnvelope(
        capabilities: JSONValue = ["mailto:*": ["email/send": [[:]]]], maxTTL: Int = 600
    ) async throws -> String {
        try await controlPlane.envelopes.create(
            appID: owner.app.id, name: "e-\(UUID().uuidString.prefix(8))", capabilities: capabilities,
            maxTTLSeconds: maxTTL, by: try await ownerIdentity(), context: Self.context
        ).id
    }

    /// Mints a root token for `audience` through `POST /v1/authorize`'s service.
    public func mint(
        for audience: DID, capabilities: JSONValue = ["mailto:*": ["email/send": [[:]]]], ttl: Int = 300,
        envelope: String? = nil
    ) async throws -> UCAN {
        try await controlPlane.tokens.authorize(
            AuthorizeRequest(
                audience: audience.string, capabilities: capabilities, ttlSeconds: ttl, envelopeID: envelope),
            by: try await ownerIdentity(), context: Self.context
        ).token
    }

    /// Creates an envelope of UCAN 1.0 command grants (command → policy) for the owner's app.
    @discardableResult
    public func createEnvelope(commands: JSONValue, maxTTL: Int = 600) async throws -> String {
        try await controlPlane.envelopes.create(
            appID: owner.app.id, name: "e-\(UUID().uuidString.prefix(8))", capabilities: nil, commands: commands,
            maxTTLSeconds: maxTTL, by: try await ownerIdentity(), context: Self.context
        ).id
    }

    /// Mints a UCAN 1.0 delegation of `command` to `audience` through `POST /v1/authorize`'s service.
    public func delegate(
        _ command: String, to audience: DID, policy: JSONValue? = nil, ttl: Int = 300, envelope: String? = nil
    ) async throws -> Delegation {
        try await controlPlane.tokens.delegate(
            DelegationRequest(
                audience: audience.string, command: command, policy: policy, ttlSeconds: ttl, envelopeID: envelope),
            by: try await ownerIdentity(), context: Self.context
        ).delegation
    }

    /// The environment's current issuer key, to sign tokens Charter itself would not mint.
    public func issuerKey() async throws -> Ed25519.SigningKey {
        try await controlPlane.signingKeys.active(
            .live, for: try await ownerIdentity(), context: Self.context
        ).key
    }

    /// `POST path` with the owner key over real HTTP; returns the status and the JSON body.
    @discardableResult
    public func post(_ path: String, json: JSONValue = [:]) async throws -> (status: Int, body: JSONValue) {
        var request = URLRequest(url: url.appending(path: path))
        request.httpMethod = "POST"
        request.setValue("Bearer \(owner.ownerKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.serialized())
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONParser.parse([UInt8](data))) ?? .null)
    }

    /// The call context in-process service calls are made with.
    public static let context = CallContext(ip: nil, requestID: "test")

    /// A new key for the owner's app, with its plaintext and id.
    public func key(role: Role = .agent) async throws -> (plaintext: String, id: String) {
        let issued = try await controlPlane.keys.create(
            NewKeyRequest(appID: owner.app.id, label: "k-\(UUID().uuidString.prefix(8))", role: role.rawValue),
            by: try await ownerIdentity(), context: Self.context)
        return (issued.plaintext, issued.key.id)
    }

    /// Audit records of `action` with `outcome`, after writing queued denials.
    public func audited(_ action: String, _ outcome: AuditEvent.Outcome = .success) async throws -> [AuditRecord] {
        try await controlPlane.auditWriter.flush(to: store)
        return try await store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: action, outcome: outcome, limit: 10_000))
    }

    /// Creates another organization on the same server.
    public func secondOrganization() async throws -> Setup.Created {
        try await Setup(store: store, clock: .system).createOrganization(name: "Other org")
    }

    /// The organizations a verifier of this server's tokens trusts: the one it was started with.
    public var organizations: Set<String> { [owner.organization.id] }

    /// The issuer DIDs an offline verifier would trust.
    public func issuers() async throws -> Set<DID> { Set(try await controlPlane.signingKeys.issuers().map(\.did)) }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
