import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Synchronization
import UCAN

/// A real Charter server on loopback over a real SQLite file in a fresh directory, with its logs captured.
struct TestServer {
    let directory: URL
    let databasePath: String
    let store: CountingStore
    let controlPlane: ControlPlane
    let owner: Setup.Created
    let logs: LogCapture
    let masterKey = SecretBox.Key()

    /// - Parameter clock: the services' clock; tests about time windows stop it.
    init(trustedProxies: [CIDR] = [], clock: CharterClock = .system) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        databasePath = directory.appendingPathComponent("charter.db").path
        store = CountingStore(try SQLiteStore(path: databasePath))
        owner = try await Setup(store: store, clock: .system).initialize()!
        controlPlane = ControlPlane(store: store, masterKey: masterKey, clock: clock)
        logs = LogCapture()
        self.trustedProxies = trustedProxies
    }

    private let trustedProxies: [CIDR]

    /// Runs `body` against the live server, then flushes background work as shutdown would.
    /// - Parameter adjust: changes to the server's configuration, such as shorter request deadlines.
    @discardableResult
    func run<T: Sendable>(
        adjusting adjust: (inout ServerConfiguration) -> Void = { _ in }, _ body: @Sendable (Client) async throws -> T
    ) async throws -> T {
        let logs = self.logs
        var logger = Logger(label: "charter-test") { label in LogCapture.Handler(label: label, capture: logs) }
        logger.logLevel = .trace
        // No timed flush mid-test: what a test sees written is exactly what its own calls wrote; the flush
        // after the run stands in for the timer.
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, trustedProxies: trustedProxies, flushInterval: .seconds(3600))
        adjust(&configuration)
        let app = CharterHTTPServer.application(
            controlPlane: controlPlane, configuration: configuration, logger: logger)
        let result = try await app.test(.live) { client in
            try await body(Client(client: client))
        }
        await BackgroundFlusher(controlPlane: controlPlane, logger: logger).flushOnce()
        return result
    }

    /// Creates another organization in the same database.
    func secondOrganization() async throws -> Setup.Created {
        try await Setup(store: store, clock: .system).createOrganization(name: "Other org")
    }

    func removeFiles() { try? FileManager.default.removeItem(at: directory) }
}

/// A thin JSON client over the Hummingbird test client.
struct Client: Sendable {
    let client: any TestClientProtocol

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let bytes: [UInt8]
        var json: JSONValue { (try? JSONParser.parse(bytes)) ?? .null }
        var text: String { String(decoding: bytes, as: UTF8.self) }
        /// `error.code` of an error reply.
        var code: String? { json["error"]?["code"]?.stringValue }
    }

    func call(
        _ method: HTTPRequest.Method, _ path: String, key: String?, json: JSONValue? = nil, body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        var buffer: ByteBuffer?
        if let json {
            buffer = ByteBuffer(bytes: json.serialized())
            headers[.contentType] = "application/json"
        } else if let body {
            buffer = ByteBuffer(string: body)
            headers[.contentType] = "application/json"
        }
        return try await client.execute(uri: path, method: method, headers: headers, body: buffer) { response in
            Reply(status: response.status, headers: response.headers, bytes: Array(response.body.readableBytesView))
        }
    }

    func get(_ path: String, key: String?, headers: HTTPFields = [:]) async throws -> Reply {
        try await call(.get, path, key: key, headers: headers)
    }

    func post(_ path: String, key: String?, json: JSONValue = [:], headers: HTTPFields = [:]) async throws -> Reply {
        try await call(.post, path, key: key, json: json, headers: headers)
    }

    /// Creates a key and returns its plaintext and id.
    func createKey(
        _ owner: String, app: String, label: String = "k-\(UUID().uuidString.prefix(8))", role: String = "admin",
        extra: JSONObject = [:]
    ) async throws -> (key: String, id: String) {
        var body: JSONObject = ["app_id": .string(app), "label": .string(label), "role": .string(role)]
        body.merge(extra) { $1 }
        let reply = try await post("/v1/keys", key: owner, json: .object(body))
        guard reply.status == .created, let key = reply.json["key"]?.stringValue,
            let id = reply.json["api_key"]?["id"]?.stringValue
        else { throw TestFailure("create key failed: \(reply.status) \(reply.text)") }
        return (key, id)
    }

    /// The capability map every minting test uses unless it needs another.
    static let mailCapabilities: JSONValue = ["mailto:*": ["email/send": [[:]]]]

    /// Creates an envelope and returns its id.
    func createEnvelope(
        _ owner: String, app: String, name: String = "e-\(UUID().uuidString.prefix(8))",
        capabilities: JSONValue = Client.mailCapabilities, maxTTL: Int = 600
    ) async throws -> String {
        let reply = try await post(
            "/v1/envelopes", key: owner,
            json: [
                "app_id": .string(app), "name": .string(name), "capabilities": capabilities,
                "max_ttl_seconds": .integer(Int64(maxTTL)),
            ])
        guard reply.status == .created, let id = reply.json["id"]?.stringValue else {
            throw TestFailure("create envelope failed: \(reply.status) \(reply.text)")
        }
        return id
    }

    /// Asks `/v1/authorize` for a token; the reply is returned whatever its status.
    func authorize(
        _ key: String, audience: DID, capabilities: JSONValue = ["mailto:a@example.com": ["email/send": [[:]]]],
        extra: JSONObject = [:]
    ) async throws -> Reply {
        var body: JSONObject = ["audience": .string(audience.string), "capabilities": capabilities]
        body.merge(extra) { $1 }
        return try await post("/v1/authorize", key: key, json: .object(body))
    }

    /// A token minted by `/v1/authorize`, parsed.
    func mint(_ key: String, audience: DID, extra: JSONObject = [:]) async throws -> UCAN {
        let reply = try await authorize(key, audience: audience, extra: extra)
        guard reply.status == .ok, let text = reply.json["token"]?.stringValue else {
            throw TestFailure("authorize failed: \(reply.status) \(reply.text)")
        }
        return try UCAN(parsing: text)
    }
}

/// A clock a test moves by hand, so expiries and minutes pass without sleeping.
final class ManualClock: Sendable {
    private let time: Mutex<Date>
    init(_ start: Date = Date()) { time = Mutex(start) }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    var now: Date { time.withLock { $0 } }
    var clock: CharterClock { CharterClock { [self] in time.withLock { $0 } } }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Every log line the server writes, for checking that no secret is ever logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: String { lines.withLock { $0.joined(separator: "\n") } }

    struct Handler: LogHandler {
        let label: String
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(event.level) \(label) \(event.message) \(all)") }
        }
    }
}

/// The SQLite store, counting the lookups that matter to the "no lookup for a malformed key" rule.
final class CountingStore: Store {
    let base: SQLiteStore
    private let hashLookups = Atomic<Int>(0)
    private let mintBatches = Atomic<Int>(0)

    init(_ base: SQLiteStore) { self.base = base }

    var secretHashLookups: Int { hashLookups.load(ordering: .relaxed) }
    /// Transactions that recorded mints: fewer than the mints themselves when group commit batches them.
    var mintTransactions: Int { mintBatches.load(ordering: .relaxed) }

    func key(secretHash: [UInt8]) async throws -> APIKey? {
        hashLookups.add(1, ordering: .relaxed)
        return try await base.key(secretHash: secretHash)
    }

    func migrate() async throws { try await base.migrate() }
    var services: [any Service] { base.services }
    func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) { base.observeChanges(handler) }
    func lastAuditSeq() async throws -> Int64 { try await base.lastAuditSeq() }
    func organizationCount() async throws -> Int { try await base.organizationCount() }
    func createOrganization(
        _ organization: Organization, app: App, ownerKey: APIKey, audit: [AuditEvent], onlyIfEmpty: Bool
    ) async throws -> Bool {
        try await base.createOrganization(
            organization, app: app, ownerKey: ownerKey, audit: audit, onlyIfEmpty: onlyIfEmpty)
    }
    func organization(id: String) async throws -> Organization? { try await base.organization(id: id) }
    func createApp(_ app: App, audit: AuditEvent) async throws { try await base.createApp(app, audit: audit) }
    func app(id: String, orgID: String) async throws -> App? { try await base.app(id: id, orgID: orgID) }
    func apps(orgID: String) async throws -> [App] { try await base.apps(orgID: orgID) }
    func createKey(_ key: APIKey, audit: AuditEvent) async throws { try await base.createKey(key, audit: audit) }
    func key(id: String, orgID: String) async throws -> APIKey? { try await base.key(id: id, orgID: orgID) }
    func keys(ids: Set<String>, orgID: String) async throws -> [APIKey] { try await base.keys(ids: ids, orgID: orgID) }
    func keys(orgID: String, filter: KeyFilter) async throws -> [APIKey] {
        try await base.keys(orgID: orgID, filter: filter)
    }
    func updateKey(_ key: APIKey, expectedVersion: Int, audit: AuditEvent) async throws -> Bool {
        try await base.updateKey(key, expectedVersion: expectedVersion, audit: audit)
    }
    func recordUsage(_ usage: [String: KeyUsage]) async throws { try await base.recordUsage(usage) }
    func appendAudit(_ events: [AuditEvent]) async throws { try await base.appendAudit(events) }
    func auditRecords(orgID: String, query: AuditQuery) async throws -> [AuditRecord] {
        try await base.auditRecords(orgID: orgID, query: query)
    }
    func auditChains() async throws -> [String?] { try await base.auditChains() }
    func auditChain(orgID: String?, after seq: Int64, limit: Int) async throws -> [AuditRecord] {
        try await base.auditChain(orgID: orgID, after: seq, limit: limit)
    }
    func createEnvelope(_ envelope: Envelope, audit: AuditEvent) async throws {
        try await base.createEnvelope(envelope, audit: audit)
    }
    func envelope(id: String, orgID: String) async throws -> Envelope? { try await base.envelope(id: id, orgID: orgID) }
    func envelopes(orgID: String, appID: String?) async throws -> [Envelope] {
        try await base.envelopes(orgID: orgID, appID: appID)
    }
    func revokeEnvelope(_ envelope: Envelope, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool {
        try await base.revokeEnvelope(envelope, entry: entry, audit: audit)
    }
    func longestEnvelopeTTL(orgID: String, environment: CharterCore.Environment) async throws -> Int {
        try await base.longestEnvelopeTTL(orgID: orgID, environment: environment)
    }
    func signingKeys() async throws -> [SigningKeyRecord] { try await base.signingKeys() }
    func activateSigningKey(_ key: SigningKeyRecord, retiring verifyUntil: Date, onlyIfNone: Bool, audit: AuditEvent)
        async throws -> Bool
    {
        try await base.activateSigningKey(key, retiring: verifyUntil, onlyIfNone: onlyIfNone, audit: audit)
    }
    func recordMints(_ mints: [Mint]) async throws -> [Mint.Outcome] {
        mintBatches.add(1, ordering: .relaxed)
        return try await base.recordMints(mints)
    }
    func mintedToken(cid: CID, orgID: String) async throws -> MintedToken? {
        try await base.mintedToken(cid: cid, orgID: orgID)
    }
    func revokeToken(_ token: MintedToken, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool {
        try await base.revokeToken(token, entry: entry, audit: audit)
    }
    func revocations(
        orgID: String, environment: CharterCore.Environment, after seq: Int64, limit: Int, coveringAfter now: Date
    ) async throws -> (entries: [RevocationEntry], latest: Int64) {
        try await base.revocations(
            orgID: orgID, environment: environment, after: seq, limit: limit, coveringAfter: now)
    }
    func prune(expiredBefore date: Date) async throws { try await base.prune(expiredBefore: date) }
    func startSession(_ session: DashboardSession, policy: SessionPolicy, at now: Date) async throws -> Bool {
        try await base.startSession(session, policy: policy, at: now)
    }
    func session(id: [UInt8]) async throws -> DashboardSession? { try await base.session(id: id) }
    func touchSession(id: [UInt8], at time: Date) async throws { try await base.touchSession(id: id, at: time) }
    func endSession(id: [UInt8]) async throws { try await base.endSession(id: id) }
    func sessionCount(keyID: String) async throws -> Int { try await base.sessionCount(keyID: keyID) }
}
