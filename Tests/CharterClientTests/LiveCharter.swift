import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import Hummingbird
import Logging
import UCAN

/// A real Charter server on a loopback port, over a real SQLite file, for SDKs that speak HTTP themselves.
final class LiveCharter: Sendable {
    let directory: URL
    let store: SQLiteStore
    let controlPlane: ControlPlane
    let owner: Setup.Created
    let url: URL
    private let task: Task<Void, any Error>

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-sdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("charter.db").path)
        owner = try await Setup(store: store, clock: .system).initialize()!
        controlPlane = ControlPlane(store: store, masterKey: SecretBox.Key())
        var logger = Logger(label: "live-charter")
        logger.logLevel = .critical
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = CharterHTTPServer.application(
            controlPlane: controlPlane, configuration: ServerConfiguration(port: 0, flushInterval: .seconds(3600)),
            logger: logger, onServerRunning: { sink.yield($0) })
        task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        url = URL(string: "http://127.0.0.1:\(await iterator.next() ?? 0)")!
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        try? FileManager.default.removeItem(at: directory)
    }

    /// The owner's identity, for calling services in-process.
    func ownerIdentity() async throws -> Identity {
        try await controlPlane.authenticator.authenticate(
            authorization: "Bearer \(owner.ownerKey)", ip: nil, path: "/v1/envelopes")
    }

    static let context = CallContext(ip: nil, requestID: "sdk-test")

    /// An envelope for the owner's app.
    @discardableResult
    func envelope(_ capabilities: JSONValue = ["mailto:*": ["email/send": [[:]]]], maxTTL: Int = 600) async throws
        -> Envelope
    {
        try await controlPlane.envelopes.create(
            appID: owner.app.id, name: "e-\(UUID().uuidString.prefix(8))", capabilities: capabilities,
            maxTTLSeconds: maxTTL, by: try await ownerIdentity(), context: Self.context)
    }

    /// A new key for the owner's app, with its plaintext and id.
    func key(role: Role = .agent) async throws -> (plaintext: String, id: String) {
        let issued = try await controlPlane.keys.create(
            NewKeyRequest(appID: owner.app.id, label: "k-\(UUID().uuidString.prefix(8))", role: role.rawValue),
            by: try await ownerIdentity(), context: Self.context)
        return (issued.plaintext, issued.key.id)
    }

    /// Audit records of `action` with `outcome`, after writing queued denials.
    func audited(_ action: String, _ outcome: AuditEvent.Outcome = .success) async throws -> [AuditRecord] {
        try await controlPlane.auditWriter.flush(to: store)
        return try await store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: action, outcome: outcome, limit: 10_000))
    }

    /// The issuers an offline verifier trusts.
    func issuers() async throws -> Set<DID> { Set(try await controlPlane.signingKeys.issuers().map(\.did)) }
}
