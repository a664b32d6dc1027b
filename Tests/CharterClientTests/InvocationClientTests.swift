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

/// UCAN 1.0 through CharterClient: delegations cached like tokens, one signed invocation per call, sub-agents
/// that can only narrow, and a service that checks all of it offline with RequireInvocation.
@Suite struct InvocationClientTests {
    static let commands: JSONValue = ["/email/send": [["like", ".to", "*@example.com"]], "/crm": []]

    static func client(_ charter: LiveCharter) async throws -> CharterClient {
        try CharterClient(
            server: charter.url, apiKey: try await charter.key().plaintext, identity: .key(Ed25519.SigningKey()),
            retry: .init(attempts: 2, initialDelay: .milliseconds(20)))
    }

    @Test func aDelegationIsMintedOnceForManyCallersAndCachedPerCommandAndPolicy() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        try await charter.createEnvelope(commands: Self.commands)
        let client = try await Self.client(charter)
        let send = try Command("/email/send")
        let delegations = try await withThrowingTaskGroup(of: CID.self) { group in
            for _ in 0..<1000 { group.addTask { try await client.delegation(for: send).cid } }
            return try await group.reduce(into: Set<CID>()) { $0.insert($1) }
        }
        #expect(delegations.count == 1)
        #expect(try await charter.audited("token.mint").count == 1)

        let delegation = try await client.delegation(for: send)
        #expect(delegation.audience == client.did && delegation.command == send)
        #expect(try await charter.issuers().contains(delegation.issuer))
        let narrow = try Policy([["==", ".to", "ops@example.com"]])
        let narrowed = try await client.delegation(for: send, policy: narrow)
        #expect(narrowed.cid != delegation.cid, "another policy is another delegation")
        #expect(narrowed.policy.ipld == [["like", ".to", "*@example.com"], ["==", ".to", "ops@example.com"]])
        #expect(try await charter.audited("token.mint").count == 2)

        let refusal = await #expect(throws: CharterClientError.self) {
            try await client.delegation(for: try Command("/calendar/write"))
        }
        #expect(refusal?.code == "command_not_in_envelope" && refusal?.status == 403)
    }

    @Test func anAgentsInvocationsAndASubAgentsPassTheServiceOnceAndWithinPolicy() async throws {
        let charter = try await LiveCharter.start()
        let envelope = try await charter.createEnvelope(commands: Self.commands)
        let agent = try await Self.client(charter)
        let serviceKey = Ed25519.SigningKey()
        let service = DID(publicKey: serviceKey.publicKey)
        let verifier = CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service]))
        try await verifier.sync()
        let router = Router()
        router.group("send")
            .add(middleware: RequireInvocation(verifier, command: try Command("/email/send")))
            .post { _, _ in
                guard let call = VerifiedInvocation.current, case .string(let to)? = call.arguments["to"] else {
                    return "none"
                }
                return "\(to) for \(call.agent)"
            }
        let send = try Command("/email/send")

        // A sub-agent gets a narrower delegation: only ops@example.com.
        let subKey = Ed25519.SigningKey()
        let sub = DID(publicKey: subKey.publicKey)
        let narrower = try await agent.delegate(
            send, policy: try Policy([["==", ".to", "ops@example.com"]]), to: sub, ttl: .seconds(120))
        let root = try await agent.delegation(for: send)
        func subAgentCall(_ to: String) throws -> SignedInvocation {
            try SignedInvocation(
                signing: send, arguments: ["to": .string(to)], audience: service, chain: [root, narrower], with: subKey,
                expiration: Int64(Date().timeIntervalSince1970) + 60)
        }
        let widened = await #expect(throws: CharterClientError.self) {
            try await agent.delegate(try Command("/email"), to: sub, ttl: .seconds(60), from: root)
        }
        #expect(widened?.code == "would_widen")
        let outliving = await #expect(throws: CharterClientError.self) {
            try await agent.delegate(send, to: sub, ttl: .seconds(3600))
        }
        #expect(outliving?.code == "would_widen")

        func post(_ call: SignedInvocation) async throws -> (HTTPResponse.Status, String) {
            try await Application(router: router).test(.router) { client in
                let response = try await client.execute(
                    uri: "/send", method: .post,
                    headers: [.authorization: call.authorization, HTTPField.Name("ucans")!: call.ucans])
                return (response.status, String(buffer: response.body))
            }
        }
        let call = try await agent.invocation(send, arguments: ["to": "ada@example.com"], audience: service)
        #expect(try await post(call) == (.ok, "ada@example.com for \(agent.did)"))
        let (replayed, replayBody) = try await post(call)
        #expect(replayed == .unauthorized && replayBody.contains("replayed"))
        let (outside, outsideBody) = try await post(
            try await agent.invocation(send, arguments: ["to": "eve@evil.com"], audience: service))
        #expect(outside == .forbidden && outsideBody.contains("policy_violation"))

        #expect(try await post(try subAgentCall("ops@example.com")) == (.ok, "ops@example.com for \(sub)"))
        let (narrowed, _) = try await post(try subAgentCall("ada@example.com"))
        #expect(narrowed == .forbidden, "the sub-agent's own policy holds beside the agent's")

        _ = try await charter.controlPlane.envelopes.revoke(
            id: envelope, by: try await charter.ownerIdentity(), context: LiveCharter.context)
        try await verifier.sync()
        let (revoked, revokedBody) = try await post(try subAgentCall("ops@example.com"))
        #expect(revoked == .unauthorized && revokedBody.contains("revoked"))
        await charter.remove()
    }
}
