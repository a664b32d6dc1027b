import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import Hummingbird
import Logging
import Synchronization
import UCAN

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real Charter server on loopback over SQLite in a fresh directory, which a test can stop mid-way.
final class LiveCharter: Sendable {
    let directory: URL
    let store: SQLiteStore
    let controlPlane: ControlPlane
    let owner: Setup.Created
    let url: URL
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
    static func start() async throws -> LiveCharter {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "charter-verifier-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("charter.db").path)
        let owner = try await Setup(store: store, clock: .system).initialize()!
        let controlPlane = ControlPlane(store: store, masterKey: SecretBox.Key())
        var logger = Logger(label: "charter-verifier-test")
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
    func stop() async {
        server.cancel()
        _ = await server.result
    }

    /// Stops the server and deletes its files.
    func remove() async {
        await stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The owner key's identity, for calling services in-process.
    func ownerIdentity() async throws -> Identity {
        try await controlPlane.authenticator.authenticate(
            authorization: "Bearer \(owner.ownerKey)", ip: nil, path: "/v1/authorize")
    }

    /// Creates an envelope for the owner's app.
    func createEnvelope(
        capabilities: JSONValue = ["mailto:*": ["email/send": [[:]]]], maxTTL: Int = 600
    ) async throws -> String {
        try await controlPlane.envelopes.create(
            appID: owner.app.id, name: "e-\(UUID().uuidString.prefix(8))", capabilities: capabilities,
            maxTTLSeconds: maxTTL, by: try await ownerIdentity(), context: CallContext(ip: nil, requestID: "test")
        ).id
    }

    /// Mints a root token for `audience` through `POST /v1/authorize`'s service.
    func mint(
        for audience: DID, capabilities: JSONValue = ["mailto:*": ["email/send": [[:]]]], ttl: Int = 300,
        envelope: String? = nil
    ) async throws -> UCAN {
        try await controlPlane.tokens.authorize(
            AuthorizeRequest(
                audience: audience.string, capabilities: capabilities, ttlSeconds: ttl, envelopeID: envelope),
            by: try await ownerIdentity(), context: CallContext(ip: nil, requestID: "test")
        ).token
    }

    /// The environment's current issuer key, to sign tokens Charter itself would not mint.
    func issuerKey() async throws -> Ed25519.SigningKey {
        try await controlPlane.signingKeys.active(
            .live, for: try await ownerIdentity(), context: CallContext(ip: nil, requestID: "test")
        ).key
    }

    /// `POST path` with the owner key over real HTTP; returns the status and the JSON body.
    @discardableResult
    func post(_ path: String, json: JSONValue = [:]) async throws -> (status: Int, body: JSONValue) {
        var request = URLRequest(url: url.appending(path: path))
        request.httpMethod = "POST"
        request.setValue("Bearer \(owner.ownerKey)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.serialized())
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONParser.parse([UInt8](data))) ?? .null)
    }
}

/// A clock that tests move by hand, on top of the real time tokens are minted at.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    /// Moves the clock by `seconds`, forward or back.
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    /// Sets the clock to `seconds` away from the real time.
    func set(_ seconds: TimeInterval) { offset.withLock { $0 = seconds } }

    var now: @Sendable () -> Date { { [self] in Date().addingTimeInterval(offset.withLock { $0 }) } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Helpers every verifier test uses: an agent key and its delegations.
struct Agent {
    let key = Ed25519.SigningKey()
    var did: DID { DID(publicKey: key.publicKey) }

    /// A delegation from this agent to `audience`, citing `root`.
    func delegate(
        _ root: UCAN, to audience: DID, capabilities: [Capability], expiration: Int64? = nil,
        notBefore: Int64? = nil
    ) throws -> UCAN {
        try UCAN(
            signing: Payload(
                issuer: did, audience: audience, notBefore: notBefore,
                expiration: expiration ?? root.payload.expiration, capabilities: try Capabilities(capabilities),
                proofs: [root.cid]),
            with: key)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
