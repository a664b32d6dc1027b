import CharterCore
import CharterTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import UCAN

@testable import CharterVerifier

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Issue 17 at the upstream service: another organization's tokens, and a proxy that tampers with the feed.
@Suite struct TenantIsolationTests {
    let service = Agent()

    @Test func anotherOrganizationsTokenIsAnUntrustedIssuer() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let attacker = try await charter.secondOrganization()
        let identity = try await charter.controlPlane.authenticator.authenticate(
            authorization: "Bearer \(attacker.ownerKey)", ip: nil, path: "/v1/authorize")
        _ = try await charter.controlPlane.envelopes.create(
            appID: attacker.app.id, name: "all", capabilities: ["mailto:*": ["email/send": [[:]]]],
            maxTTLSeconds: 600, by: identity, context: LiveCharter.context)
        // The attack: org B mints for the victim's address, hoping org A's service trusts any Charter issuer.
        let forged = try await charter.controlPlane.tokens.authorize(
            AuthorizeRequest(
                audience: service.did.string, capabilities: ["mailto:ceo@victim.example": ["email/send": [[:]]]]),
            by: identity, context: LiveCharter.context
        ).token

        let victims = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service.did]))
        try await victims.sync()
        let refusal = #expect(throws: VerificationError.self) { try victims.verify(forged.encoded) }
        #expect(refusal?.code == .untrustedIssuer)

        // A service trusting both still tells them apart: B's issuer cannot vouch for a root naming A.
        let both = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: [charter.owner.organization.id, attacker.organization.id],
                audiences: [service.did]))
        try await both.sync()
        #expect(try both.verify(forged.encoded).org == attacker.organization.id)
        let attackersIssuer = try await charter.controlPlane.signingKeys.active(
            .live, for: identity, context: LiveCharter.context)
        var facts = forged.payload.facts ?? [:]
        facts["org"] = .string(charter.owner.organization.id)
        let posing = try UCAN(
            signing: Payload(
                issuer: forged.payload.issuer, audience: service.did, expiration: forged.payload.expiration,
                facts: facts, capabilities: forged.payload.capabilities),
            with: attackersIssuer.key)
        let posed = #expect(throws: VerificationError.self) { try both.verify(posing.encoded) }
        #expect(posed?.code == .untrustedIssuer)
    }

    /// What the proxy does to `GET /v1/revocations` answers on their way to the verifier.
    enum Tamper: Sendable {
        case none
        case dropFirstEntry
        case reverseEntries
        /// Answer every request with the last answer passed through untouched.
        case replayLast
    }

    /// A proxy on loopback between the verifier and Charter.
    final class FeedProxy: Sendable {
        let upstream: URL
        let tamper = Mutex(Tamper.none)
        let last = Mutex<[UInt8]?>(nil)

        init(upstream: URL) { self.upstream = upstream }

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.get("v1/issuers") { request, _ in try await self.forward(request, tampering: false) }
            router.get("v1/revocations") { request, _ in try await self.forward(request, tampering: true) }
            return Application(router: router)
        }

        private func forward(_ request: Request, tampering: Bool) async throws -> Response {
            var url = upstream.appending(path: String(request.uri.path.dropFirst()))
            url.append(
                queryItems: request.uri.queryParameters.map { URLQueryItem(name: "\($0.key)", value: "\($0.value)") })
            let (data, _) = try await URLSession.shared.data(from: url)
            var bytes = [UInt8](data)
            if tampering {
                switch tamper.withLock({ $0 }) {
                case .none: last.withLock { $0 = bytes }
                case .replayLast: bytes = last.withLock { $0 } ?? bytes
                case .dropFirstEntry: bytes = Self.editEntries(bytes) { Array($0.dropFirst()) }
                case .reverseEntries: bytes = Self.editEntries(bytes) { $0.reversed() }
                }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }

        private static func editEntries(_ bytes: [UInt8], _ edit: ([JSONValue]) -> [JSONValue]) -> [UInt8] {
            guard case .object(var body)? = try? JSONParser.parse(bytes), let entries = body["revocations"]?.arrayValue
            else { return bytes }
            body["revocations"] = .array(edit(entries))
            return JSONValue.object(body).serialized()
        }
    }

    /// A server with two revoked envelopes and a token under each, a proxy in front, and a verifier behind it.
    func withTamperedFeed(
        _ body: @Sendable (LiveCharter, FeedProxy, CharterVerifier, TestClock, [UCAN]) async throws -> Void
    ) async throws {
        let clock = TestClock()
        let charter = try await LiveCharter.start(clock: CharterClock(clock.now))
        defer { Task { await charter.remove() } }
        var tokens: [UCAN] = []
        for _ in 0..<2 {
            let envelope = try await charter.createEnvelope()
            tokens.append(try await charter.mint(for: service.did, envelope: envelope))
            #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
        }
        let proxy = FeedProxy(upstream: charter.url)
        let minted = tokens
        try await proxy.application().test(.live) { client in
            let port = try #require(client.port)
            let verifier = CharterVerifier(
                VerifierConfiguration(
                    server: URL(string: "http://127.0.0.1:\(port)")!, organizations: charter.organizations,
                    audiences: [service.did], maxFeedAge: 60),
                now: clock.now)
            try await body(charter, proxy, verifier, clock, minted)
        }
    }

    @Test(arguments: [Tamper.dropFirstEntry, .reverseEntries])
    func aProxyThatDropsOrReordersEntriesFailsTheSyncClosed(tamper: Tamper) async throws {
        try await withTamperedFeed { _, proxy, verifier, _, tokens in
            proxy.tamper.withLock { $0 = tamper }
            await #expect(throws: FeedError.self) { try await verifier.sync() }
            // Never synced, so nothing verifies: not the token whose revocation was dropped, not any other.
            for token in tokens {
                let error = #expect(throws: VerificationError.self) { try verifier.verify(token.encoded) }
                #expect(error?.code == .notSynced)
            }
            proxy.tamper.withLock { $0 = .none }
            try await verifier.sync()
            for token in tokens {
                #expect(throws: VerificationError.self) { try verifier.verify(token.encoded) }
            }
        }
    }

    @Test func aProxyThatReplaysAnOldAnswerIsRefusedAndTheVerifierGoesStale() async throws {
        try await withTamperedFeed { charter, proxy, verifier, clock, _ in
            try await verifier.sync()
            let envelope = try await charter.createEnvelope()
            let token = try await charter.mint(for: service.did, envelope: envelope)
            #expect(try verifier.verify(token.encoded).envelope == envelope)

            // The envelope is revoked, but the proxy keeps serving the answer from before.
            #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
            proxy.tamper.withLock { $0 = .replayLast }
            clock.advance(5)
            await #expect(throws: FeedError.self) { try await verifier.sync() }
            clock.advance(56)
            let stale = #expect(throws: VerificationError.self) { try verifier.verify(token.encoded) }
            #expect(stale?.code == .feedStale)

            // The real feed brings the revocation; after it, the old answer is refused as older than the last.
            proxy.tamper.withLock { $0 = .none }
            try await verifier.sync()
            let revoked = #expect(throws: VerificationError.self) { try verifier.verify(token.encoded) }
            #expect(revoked?.code == .revoked)
            clock.advance(1)
            try await verifier.sync()
            proxy.tamper.withLock { $0 = .replayLast }
            clock.advance(1)
            await #expect(throws: FeedError.self) { try await verifier.sync() }
        }
    }
}
