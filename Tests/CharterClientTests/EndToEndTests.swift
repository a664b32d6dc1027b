import CharterClient
import CharterCore
import CharterTestSupport
import CharterVerifier
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import UCAN

/// The whole path: app → envelope → agent key → CharterClient gets a token → it delegates to a sub-agent →
/// a Hummingbird service guarded by RequireCapability checks the sub-agent's request offline.
@Suite struct EndToEndTests {
    @Test func aSubAgentsRequestIsCheckedOfflineAndDiesWithItsEnvelope() async throws {
        let charter = try await LiveCharter.start()
        let owner = try await charter.ownerIdentity()
        let app = try await charter.controlPlane.apps.create(
            name: "mailer", environment: "live", by: owner, context: LiveCharter.context)
        let envelope = try await charter.controlPlane.envelopes.create(
            appID: app.id, name: "outbound mail", capabilities: ["mailto:*": ["email/send": [[:]]]],
            maxTTLSeconds: 600, by: owner, context: LiveCharter.context)
        let agentKey = try await charter.controlPlane.keys.create(
            NewKeyRequest(appID: app.id, label: "mailer-agent", role: "agent"), by: owner, context: LiveCharter.context
        ).plaintext

        // The agent: its token for everything the team may send, and a narrower one for its sub-agent.
        let agent = try CharterClient(server: charter.url, apiKey: agentKey, identity: .key(Ed25519.SigningKey()))
        let team = try Capabilities([Capability(resource: "mailto:*", ability: "email/send")])
        let root = try await agent.token(for: team)
        let subAgentKey = Ed25519.SigningKey()
        let subAgent = DID(publicKey: subAgentKey.publicKey)
        let opsOnly = try Capabilities([Capability(resource: "mailto:ops@example.com", ability: "email/send")])
        let delegated = try await agent.delegate(opsOnly, to: subAgent, ttl: .seconds(120), from: root)

        // The service knows only Charter's URL (for issuers and the feed) and its own DID.
        let serviceKey = Ed25519.SigningKey()
        let service = DID(publicKey: serviceKey.publicKey)
        let verifier = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service]))
        try await verifier.sync()
        let router = Router()
        router.group("ops").add(
            middleware: RequireCapability(verifier, resource: "mailto:ops@example.com", ability: "email/send")
        ).post("send") { _, _ in "sent" }
        router.group("ceo").add(
            middleware: RequireCapability(verifier, resource: "mailto:ceo@example.com", ability: "email/send")
        ).post("send") { _, _ in "sent" }

        // The sub-agent invokes the service with its own token, citing the chain.
        let invocation = try UCAN(
            signing: Payload(
                issuer: subAgent, audience: service, expiration: Int64(Date().timeIntervalSince1970) + 60,
                capabilities: opsOnly, proofs: [delegated.cid]),
            with: subAgentKey)
        let headers: HTTPFields = [
            .authorization: "Bearer \(invocation.encoded)",
            HTTPField.Name("ucans")!: "\(root.encoded),\(delegated.encoded)",
        ]
        try await Application(router: router).test(.router) { client in
            let allowed = try await client.execute(uri: "/ops/send", method: .post, headers: headers)
            #expect(allowed.status == .ok)
            #expect(String(buffer: allowed.body) == "sent")
            let refused = try await client.execute(uri: "/ceo/send", method: .post, headers: headers)
            #expect(refused.status == .forbidden)
            #expect(String(buffer: refused.body).contains("not_covered"))

            // Revoke the envelope: after one sync the service refuses the chain, and the agent's own token.
            _ = try await charter.controlPlane.envelopes.revoke(
                id: envelope.id, by: owner, context: LiveCharter.context)
            try await verifier.sync()
            let revoked = try await client.execute(uri: "/ops/send", method: .post, headers: headers)
            #expect(revoked.status == .unauthorized)
            #expect(String(buffer: revoked.body).contains("revoked"))
        }
        let agentSide = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [agent.did]))
        try await agentSide.sync()
        let rootRefusal = #expect(throws: VerificationError.self) { _ = try agentSide.verify(root.encoded) }
        #expect(rootRefusal?.code == .revoked)
        // Nothing new is minted under the revoked envelope.
        let fresh = try CharterClient(server: charter.url, apiKey: agentKey, identity: .key(Ed25519.SigningKey()))
        let refusal = await #expect(throws: CharterClientError.self) { try await fresh.token(for: team) }
        #expect(refusal?.code == "no_active_envelope")
        await charter.remove()
    }
}

/// Tokens never cross an environment: a service trusts live issuers unless told otherwise.
@Suite struct EnvironmentTests {
    @Test func aTestTokenDoesNotPassALiveService() async throws {
        let charter = try await LiveCharter.start()
        let owner = try await charter.ownerIdentity()
        let sandbox = try await charter.controlPlane.apps.create(
            name: "sandbox", environment: "test", by: owner, context: LiveCharter.context)
        _ = try await charter.controlPlane.envelopes.create(
            appID: sandbox.id, name: "mail", capabilities: ["mailto:*": ["email/send": [[:]]]], maxTTLSeconds: 600,
            by: owner, context: LiveCharter.context)
        let key = try await charter.controlPlane.keys.create(
            NewKeyRequest(appID: sandbox.id, label: "test-agent", role: "agent"), by: owner,
            context: LiveCharter.context
        ).plaintext
        let agent = try CharterClient(server: charter.url, apiKey: key, identity: .key(Ed25519.SigningKey()))
        let token = try await agent.token(
            for: try Capabilities([Capability(resource: "mailto:a@example.com", ability: "email/send")]))

        let live = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [agent.did]))
        try await live.sync()
        let refusal = #expect(throws: VerificationError.self) { _ = try live.verify(token.encoded) }
        #expect(refusal?.code == .untrustedIssuer)

        let staging = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, environments: ["test"],
                audiences: [agent.did]))
        try await staging.sync()
        #expect(try staging.verify(token.encoded).env == "test")
        await charter.remove()
    }
}
