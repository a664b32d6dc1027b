import CharterCore
import CharterTestSupport
import Foundation
import Hummingbird
import Synchronization
import Testing
import UCAN

@testable import CharterClient

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// CharterClient against a real Charter server on loopback.
@Suite struct ClientTests {
    static let mail = try! Capabilities([Capability(resource: "mailto:ops@example.com", ability: "email/send")])

    static func client(_ charter: LiveCharter, key: String, ttl: Int? = nil) throws -> CharterClient {
        try CharterClient(
            server: charter.url, apiKey: key, identity: .key(Ed25519.SigningKey()), ttlSeconds: ttl,
            retry: .init(attempts: 4, initialDelay: .milliseconds(20)))
    }

    /// Serves `router` on a free loopback port: the port, and the task to cancel when done.
    static func serve(_ router: Router<BasicRequestContext>) async -> (port: Int, running: Task<Void, any Error>) {
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { sink.yield($0.localAddress?.port ?? 0) })
        let running = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        return (await iterator.next() ?? 0, running)
    }

    @Test func aTokenComesFromTheServerOnceAndThenFromTheCache() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope()
        let (key, keyID) = try await charter.key()
        let client = try Self.client(charter, key: key)
        let token = try await client.token(for: Self.mail)
        #expect(token.payload.audience == client.did)
        #expect(token.payload.facts?["key"]?.stringValue == keyID)
        let chain = try Validator(
            policy: ValidationPolicy(trustedIssuers: try await charter.issuers(), audiences: [client.did])
        ).validate(token, now: Int64(Date().timeIntervalSince1970))
        #expect(chain.rootIssuers == [token.payload.issuer])
        #expect(try await client.token(for: Self.mail).encoded == token.encoded)
        // Another capability set is another token.
        let other = try Capabilities([Capability(resource: "mailto:dev@example.com", ability: "email/send")])
        #expect(try await client.token(for: other).encoded != token.encoded)
        #expect(try await charter.audited("token.mint").count == 2)
        await charter.remove()
    }

    @Test func aThousandConcurrentRequestsCauseOneMint() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope()
        let client = try Self.client(charter, key: try await charter.key().plaintext)
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<1000 { group.addTask { try await client.token(for: Self.mail).encoded } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1)
        #expect(try await charter.audited("token.mint").count == 1)
        await charter.remove()
    }

    @Test func aRefusalSurfacesAtOnceWithTheServersCode() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope()
        let (key, keyID) = try await charter.key()
        let client = try Self.client(charter, key: key)
        let wide = try Capabilities([Capability(resource: "https://bank.example.com", ability: "money/move")])
        let refused = await #expect(throws: CharterClientError.self) { try await client.token(for: wide) }
        #expect(refused?.code == "capability_not_in_envelope")
        #expect(refused?.status == 403)
        #expect(try await charter.audited("token.mint", .denied).count == 1, "refusals are not retried")

        _ = try await charter.controlPlane.keys.revoke(
            id: keyID, by: try await charter.ownerIdentity(), context: LiveCharter.context)
        let revoked = await #expect(throws: CharterClientError.self) { try await client.token(for: Self.mail) }
        #expect(revoked?.code == "api_key_revoked")
        #expect(revoked?.status == 401)
        #expect(revoked?.isTransient == false)
        #expect(try await charter.audited("request.denied", .denied).count == 1)
        await charter.remove()
    }

    @Test func transientFailuresAreRetriedWithBackoff() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope()
        let key = try await charter.key().plaintext
        // A hop in front of Charter that fails the first two calls the way an overloaded proxy would.
        let failures = Atomic<Int>(2)
        let attempts = Atomic<Int>(0)
        let router = Router()
        router.post("/v1/authorize") { request, _ in
            attempts.add(1, ordering: .relaxed)
            if failures.subtract(1, ordering: .relaxed).newValue >= 0 {
                return Response(status: .serviceUnavailable)
            }
            var forward = URLRequest(url: charter.url.appendingPathComponent("v1/authorize"))
            forward.httpMethod = "POST"
            forward.setValue(request.headers[.authorization], forHTTPHeaderField: "Authorization")
            forward.httpBody = Data(buffer: try await request.body.collect(upTo: 65536))
            let (data, _) = try await URLSession.shared.data(for: forward)
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(data))))
        }
        let (port, running) = await Self.serve(router)
        let client = try CharterClient(
            server: URL(string: "http://127.0.0.1:\(port)")!, apiKey: key, identity: .key(Ed25519.SigningKey()),
            retry: .init(attempts: 4, initialDelay: .milliseconds(20)))
        let token = try await client.token(for: Self.mail)
        #expect(token.payload.audience == client.did)
        #expect(attempts.load(ordering: .relaxed) == 3)
        running.cancel()

        // Nothing listening at all: the attempts run out and the error says so.
        let nowhere = try CharterClient(
            server: URL(string: "http://127.0.0.1:\(port)")!, apiKey: key, identity: .key(Ed25519.SigningKey()),
            retry: .init(attempts: 2, initialDelay: .milliseconds(10)))
        _ = try? await running.value
        let unreachable = await #expect(throws: CharterClientError.self) { try await nowhere.token(for: Self.mail) }
        #expect(unreachable?.code == "server_unreachable")
        await charter.remove()
    }

    @Test func aRefusalCarriesTheServersCodeStatusAndField() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope()
        let client = try Self.client(charter, key: try await charter.key().plaintext, ttl: 0)
        let error = await #expect(throws: CharterClientError.self) { try await client.token(for: Self.mail) }
        #expect(error?.code == "validation_failed" && error?.status == 422 && error?.field == "ttl_seconds")
        #expect(error.map(Self.shape) == ["validation_failed", "ttl_seconds"], "the one shape every error has")
        await charter.remove()
    }

    /// What any of Charter's errors says, read through the shape they share.
    static func shape(_ error: some CodedError) -> [String?] { [error.codeName, error.field] }

    @Test func aRedirectIsRefusedSoTheKeyNeverFollowsIt() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope()
        let key = try await charter.key().plaintext
        // A server that sends every /v1/authorize on to the real one, as a hijacked proxy might.
        let router = Router()
        router.post("/v1/authorize") { _, _ in
            Response(
                status: .temporaryRedirect,
                headers: [.location: charter.url.appendingPathComponent("v1/authorize").absoluteString])
        }
        let (port, running) = await Self.serve(router)
        let client = try CharterClient(
            server: URL(string: "http://127.0.0.1:\(port)")!, apiKey: key, identity: .key(Ed25519.SigningKey()),
            retry: .init(attempts: 1))
        let error = await #expect(throws: CharterClientError.self) { try await client.token(for: Self.mail) }
        #expect(error?.code == "unexpected_response" && error?.status == 307)
        #expect(try await charter.audited("token.mint").isEmpty, "the key did not reach the redirect's target")
        running.cancel()
        await charter.remove()
    }

    @Test(.timeLimit(.minutes(1))) func aTokenIsRefreshedInTheBackgroundBeforeItExpires() async throws {
        // The server and the client share one clock the test moves: the lifetime passes without waiting.
        let clock = ManualClientClock(Date())
        let charter = try await LiveCharter.start(clock: clock.charterClock)
        try await charter.createEnvelope(maxTTL: 600)
        let client = try CharterClient(
            server: charter.url, apiKey: try await charter.key().plaintext, identity: .key(Ed25519.SigningKey()),
            ttlSeconds: 600, clock: clock)
        let issued = clock.now()
        let first = try await client.token(for: Self.mail)
        let expiry = Date(timeIntervalSince1970: TimeInterval(try #require(first.payload.expiration)))
        let refreshAt = await clock.sleep(after: issued)
        #expect(
            refreshAt == issued.addingTimeInterval(expiry.timeIntervalSince(issued) * 0.8), "at 80% of the lifetime")

        clock.advance(refreshAt.timeIntervalSince(issued) - 1)
        #expect(try await client.token(for: Self.mail).encoded == first.encoded)
        #expect(try await charter.audited("token.mint").count == 1, "nothing is minted before then")

        // No call is made: the refresh runs on its own, and once it has stored the new token it schedules the
        // next refresh, which is the moment to look.
        clock.advance(1)
        let nextRefresh = await clock.sleep(after: refreshAt)
        let second = try await client.token(for: Self.mail)
        #expect(second.encoded != first.encoded, "the refreshed token replaced the first while it was still valid")
        #expect(try await charter.audited("token.mint").count == 2)
        let secondExpiry = Date(timeIntervalSince1970: TimeInterval(try #require(second.payload.expiration)))
        #expect(secondExpiry > expiry && nextRefresh < secondExpiry)
        await charter.remove()
    }

    @Test func theIdentityIsGeneratedOnceAndKeptPrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-id-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("identity.json")
        let server = URL(string: "http://127.0.0.1:9")!
        let first = try CharterClient(server: server, apiKey: "chr_test_x", identity: .file(file))
        let again = try CharterClient(server: server, apiKey: "chr_test_x", identity: .file(file))
        #expect(first.did == again.did)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        try Data("{\"secret_key\":\"nope\"}".utf8).write(to: file)
        let broken = #expect(throws: CharterClientError.self) {
            try CharterClient(server: server, apiKey: "chr_test_x", identity: .file(file))
        }
        #expect(broken?.code == "identity_unreadable")
    }

    @Test func aDelegationNarrowsAndNeverWidens() async throws {
        let charter = try await LiveCharter.start()
        try await charter.createEnvelope(capabilities: ["mailto:*": ["email/send": [[:]]]])
        let client = try Self.client(charter, key: try await charter.key().plaintext)
        let team = try Capabilities([Capability(resource: "mailto:*", ability: "email/send")])
        let root = try await client.token(for: team)
        let subAgent = DID(publicKey: Ed25519.SigningKey().publicKey)
        let child = try await client.delegate(Self.mail, to: subAgent, ttl: .seconds(60), from: root)
        #expect(child.payload.issuer == client.did)
        #expect(child.payload.proofs == [root.cid])
        let chain = try Validator(
            policy: ValidationPolicy(trustedIssuers: try await charter.issuers(), audiences: [subAgent])
        ).validate(child, proofs: ProofStore([root]), now: Int64(Date().timeIntervalSince1970))
        #expect(chain.rootIssuers == [root.payload.issuer])

        let wider = try Capabilities([Capability(resource: "https://bank.example.com", ability: "money/move")])
        let widening = await #expect(throws: CharterClientError.self) {
            try await client.delegate(wider, to: subAgent, ttl: .seconds(60), from: root)
        }
        #expect(widening?.code == "would_widen")
        let longer = await #expect(throws: CharterClientError.self) {
            try await client.delegate(Self.mail, to: subAgent, ttl: .seconds(3600), from: root)
        }
        #expect(longer?.code == "would_widen")
        let notOurs = try await Self.client(charter, key: try await charter.key().plaintext).token(for: team)
        let foreign = await #expect(throws: CharterClientError.self) {
            try await client.delegate(Self.mail, to: subAgent, ttl: .seconds(60), from: notOurs)
        }
        #expect(foreign?.code == "would_widen")
        await charter.remove()
    }
}
