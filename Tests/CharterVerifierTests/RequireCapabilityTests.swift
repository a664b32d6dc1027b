import CharterCore
import CharterTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import UCAN

@testable import CharterVerifier

/// The middleware in a Hummingbird app: 200 when covered, 401, 403 and 503 in the JSON error shape.
@Suite struct RequireCapabilityTests {
    let service = Agent()

    /// An app with `POST /send` behind `email/send` on `mailto:*`; the handler echoes the verified app id.
    func app(_ verifier: CharterVerifier) -> some ApplicationProtocol {
        let router = Router()
        router.group("send")
            .add(middleware: RequireCapability(verifier, resource: "mailto:*", ability: "email/send"))
            .post { _, _ in VerifiedToken.current?.app ?? "no token" }
        return Application(router: router)
    }

    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: JSONValue
        let text: String
    }

    func send(_ client: some TestClientProtocol, token: String?, proofs: [String] = []) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if !proofs.isEmpty { headers[HTTPField.Name("ucans")!] = proofs.joined(separator: ", ") }
        return try await client.execute(uri: "/send", method: .post, headers: headers) { response in
            let bytes = Array(response.body.readableBytesView)
            return Reply(
                status: response.status, headers: response.headers,
                body: (try? JSONParser.parse(bytes)) ?? .null, text: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// `{"error":{"code","message"}}`, with `field` when the failure names one, and nothing else: the server's
    /// shape.
    func expectError(_ reply: Reply, _ status: HTTPResponse.Status, _ code: String) {
        #expect(reply.status == status)
        #expect(reply.headers[.contentType] == "application/json")
        #expect(reply.body.objectValue.map { Set($0.keys) } == ["error"])
        let keys = reply.body["error"]?.objectValue.map { Set($0.keys) }
        #expect(
            keys == ["code", "message"]
                || (keys == ["code", "message", "field"] && reply.body["error"]?["field"]?.stringValue != nil))
        #expect(reply.body["error"]?["code"]?.stringValue == code)
    }

    @Test func coveredTokensPassAndOthersAreRefusedInTheErrorShape() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope()
        let agent = Agent()
        let root = try await charter.mint(for: service.did)
        let agentRoot = try await charter.mint(for: agent.did)
        let delegated = try agent.delegate(
            agentRoot, to: service.did, capabilities: [Capability(resource: "mailto:*", ability: "email/send")])
        let narrow = try await charter.mint(
            for: service.did, capabilities: ["mailto:a@example.com": ["email/send": [[:]]]])
        let clock = TestClock()
        let verifier = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service.did]),
            now: clock.now)
        try await verifier.sync()

        try await app(verifier).test(.router) { client in
            let ok = try await send(client, token: root.encoded)
            #expect(ok.status == .ok)
            #expect(ok.text == charter.owner.app.id)
            #expect(try await send(client, token: delegated.encoded, proofs: [agentRoot.encoded]).status == .ok)

            expectError(try await send(client, token: narrow.encoded), .forbidden, "not_covered")
            expectError(try await send(client, token: nil), .unauthorized, "malformed")
            expectError(try await send(client, token: "garbage"), .unauthorized, "malformed")
            expectError(try await send(client, token: delegated.encoded), .unauthorized, "invalid_chain")
            expectError(try await send(client, token: agentRoot.encoded), .unauthorized, "wrong_audience")
            #expect(try await send(client, token: "garbage").headers[.wwwAuthenticate] == "Bearer")

            #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
            try await verifier.sync()
            expectError(try await send(client, token: root.encoded), .unauthorized, "revoked")
            expectError(
                try await send(client, token: delegated.encoded, proofs: [agentRoot.encoded]), .unauthorized,
                "revoked")

            clock.advance(61)
            expectError(try await send(client, token: root.encoded), .serviceUnavailable, "feed_stale")
        }
    }

    @Test func anUnsyncedVerifierAnswers503() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let verifier = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service.did]))
        try await app(verifier).test(.router) { client in
            expectError(try await send(client, token: root.encoded), .serviceUnavailable, "not_synced")
        }
    }
}
