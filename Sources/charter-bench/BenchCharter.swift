import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import Logging
import UCAN

/// What every benchmark that needs the control plane starts from: a fresh SQLite file in a temporary
/// directory, initialized with its organization and owner key.
struct BenchCharter {
    let directory: URL
    let store: SQLiteStore
    let controlPlane: ControlPlane
    let owner: Setup.Created

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("bench.db").path)
        owner = try await Setup(store: store, clock: .system).initialize()!
        controlPlane = ControlPlane(store: store, masterKey: SecretBox.Key())
    }

    /// Deletes the database and everything else in the directory.
    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// The owner key's identity, for calling services in-process.
    func ownerIdentity() async throws -> Identity {
        try await controlPlane.authenticator.authenticate(
            authorization: "Bearer \(owner.ownerKey)", ip: nil, path: "/v1/authorize")
    }

    /// An envelope for the owner's app and a wrk script that posts one authorize request, again and again.
    static func authorizeScript(
        _ controlPlane: ControlPlane, owner: Setup.Created, in directory: URL, name: String = "authorize"
    ) async throws -> String {
        try await createEnvelope(controlPlane, owner: owner)
        let audience = DID(publicKey: Ed25519.SigningKey().publicKey)
        return try script(
            body:
                #"{"audience":"\#(audience)","capabilities":{"mailto:a@example.com":{"email/send":[{}]}},"ttl_seconds":300}"#,
            owner: owner, in: directory, name: name)
    }

    /// A wrk script for `POST /v1/authorize` minting a UCAN 1.0 delegation of `/email/send`, under the envelope
    /// ``authorizeScript(_:owner:in:name:)`` created.
    static func delegationScript(owner: Setup.Created, in directory: URL) throws -> String {
        let audience = DID(publicKey: Ed25519.SigningKey().publicKey)
        return try script(
            body:
                #"{"format":"ucan/1.0","audience":"\#(audience)","command":"/email/send","ttl_seconds":300}"#,
            owner: owner, in: directory, name: "delegate")
    }

    private static func script(body: String, owner: Setup.Created, in directory: URL, name: String) throws -> String {
        let script = """
            wrk.method = "POST"
            wrk.body = '\(body)'
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "Bearer \(owner.ownerKey)"
            """
        let path = directory.appendingPathComponent("\(name).lua").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An envelope for the owner's app covering `email/send` on any `mailto:` resource (0.10) and `/email/send`
    /// to example.com addresses (1.0), for 900 s.
    static func createEnvelope(_ controlPlane: ControlPlane, owner: Setup.Created) async throws {
        let caller = try await controlPlane.authenticator.authenticate(
            authorization: "Bearer \(owner.ownerKey)", ip: nil, path: "/v1/envelopes")
        _ = try await controlPlane.envelopes.create(
            appID: owner.app.id, name: "bench", capabilities: ["mailto:*": ["email/send": [[:]]]],
            commands: ["/email/send": [["like", ".to", "*@example.com"]]], maxTTLSeconds: 900, by: caller,
            context: context)
    }

    static let context = CallContext(ip: nil, requestID: "bench")

    /// A logger that stays quiet below `level`, with the server's own handler, whose cost per request it shares.
    static func logger(_ level: Logger.Level) -> Logger {
        var logger = Logger(label: "bench") { JSONLogHandler(label: $0) }
        logger.logLevel = level
        return logger
    }
}
