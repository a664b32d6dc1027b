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

    /// An app with `POST /send` behind `email/send` on `mailto:*`; the handler echoes the verified app id. With
    /// `resource`, it is an OAuth protected resource and serves its metadata.
    func app(_ verifier: CharterVerifier, resource: ProtectedResource? = nil) -> some ApplicationProtocol {
        let router = Router()
        router.group("send")
            .add(
                middleware: RequireCapability(
                    verifier, resource: "mailto:*", ability: "email/send", protectedResource: resource)
            )
            .post { _, _ in VerifiedToken.current?.app ?? "no token" }
        resource?.register(on: router)
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
            #expect(try await send(client, token: nil).headers[.wwwAuthenticate] == "Bearer")
            #expect(
                try await send(client, token: "garbage").headers[.wwwAuthenticate] == #"Bearer error="invalid_token""#)
            #expect(
                try await send(client, token: narrow.encoded).headers[.wwwAuthenticate]
                    == #"Bearer error="insufficient_scope", scope="email/send""#)

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

    /// RFC 9728 and the MCP authorization spec: the metadata names Charter, and every refusal points to it.
    @Test func aProtectedResourceServesItsMetadataAndNamesItInRefusals() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let narrow = try await charter.mint(
            for: service.did, capabilities: ["mailto:a@example.com": ["email/send": [[:]]]])
        let verifier = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service.did]))
        try await verifier.sync()
        let resource = ProtectedResource(
            resource: "https://mail.example.com/mcp", authorizationServers: [charter.url.absoluteString],
            scopesSupported: ["email/send"])
        #expect(resource.metadataURL == "https://mail.example.com/.well-known/oauth-protected-resource/mcp")
        let metadata = #"resource_metadata="https://mail.example.com/.well-known/oauth-protected-resource/mcp""#

        try await app(verifier, resource: resource).test(.router) { client in
            let path = "/.well-known/oauth-protected-resource/mcp"
            let (document, headers) = try await client.execute(uri: path, method: .get) {
                (try JSONParser.parse(Array($0.body.readableBytesView)), $0.headers)
            }
            #expect(headers[.accessControlAllowOrigin] == "*" && headers[.cacheControl] == "public, max-age=3600")
            let head = try await client.execute(uri: path, method: .head) { $0 }
            #expect(head.status == .ok && head.body.readableBytes == 0)
            let preflight = try await client.execute(uri: path, method: .options) { $0 }
            #expect(
                preflight.status == .noContent && preflight.headers[.accessControlAllowMethods] == "GET, HEAD, OPTIONS")
            #expect(
                document
                    == [
                        "resource": "https://mail.example.com/mcp",
                        "authorization_servers": [.string(charter.url.absoluteString)],
                        "bearer_methods_supported": ["header"], "scopes_supported": ["email/send"],
                    ])
            #expect(try await send(client, token: nil).headers[.wwwAuthenticate] == "Bearer \(metadata)")
            #expect(
                try await send(client, token: "garbage").headers[.wwwAuthenticate]
                    == #"Bearer error="invalid_token", "# + metadata)
            let refused = try await send(client, token: narrow.encoded)
            expectError(refused, .forbidden, "not_covered")
            #expect(
                refused.headers[.wwwAuthenticate]
                    == #"Bearer error="insufficient_scope", scope="email/send", "# + metadata)
        }
    }

    @Test func theMetadataPathFollowsTheResourcePath() {
        let bare = ProtectedResource(resource: "http://127.0.0.1:8000", authorizationServers: [])
        #expect(bare.metadataPath == "/.well-known/oauth-protected-resource")
        #expect(bare.metadataURL == "http://127.0.0.1:8000/.well-known/oauth-protected-resource")
        let slash = ProtectedResource(resource: "http://127.0.0.1:8000/", authorizationServers: [])
        #expect(slash.metadataPath == "/.well-known/oauth-protected-resource")
        let nested = ProtectedResource(resource: "https://api.example.com/v2/mail", authorizationServers: [])
        #expect(nested.metadataURL == "https://api.example.com/.well-known/oauth-protected-resource/v2/mail")
        #expect(nested.metadata["scopes_supported"] == nil, "no scopes listed when none are given")
        #expect(BearerChallenge.quoted(#"a"b\c"#) == #""a\"b\\c""#)
    }
}
