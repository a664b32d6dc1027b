import CharterCore
import CharterTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import UCAN

@testable import CharterVerifier

/// UCAN 1.0 invocations against a real Charter server on loopback: the agent holds a delegation Charter minted and
/// signs an invocation per call; the service verifies it offline, once.
@Suite struct InvocationTests {
    let service = Agent()
    let agent = Agent()
    static let commands: JSONValue = ["/email/send": [["like", ".to", "*@example.com"]], "/crm/read": []]

    func verifier(_ charter: LiveCharter, clock: TestClock = TestClock(), maxInvocationLifetime: Int64 = 300)
        -> CharterVerifier
    {
        CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did],
                maxInvocationLifetime: maxInvocationLifetime),
            now: clock.now)
    }

    /// The agent's invocation of `command` citing `delegation`, addressed to the service unless told otherwise.
    func invoke(
        _ delegation: Delegation, _ command: String = "/email/send", args: [String: IPLD] = ["to": "ada@example.com"],
        audience: DID? = nil, expiresIn seconds: Int64? = 60, signer: Ed25519.SigningKey? = nil
    ) throws -> [UInt8] {
        try Invocation(
            issuer: signer ?? agent.key, subject: try #require(delegation.subject), audience: audience ?? service.did,
            command: try Command(command), arguments: args, proofs: [delegation.cid],
            expiration: seconds.map { Int64(Date().timeIntervalSince1970) + $0 }
        ).bytes
    }

    func refusal(
        _ verifier: CharterVerifier, _ invocation: [UInt8], proofs: [[UInt8]], requiring command: Command? = nil
    ) -> VerificationError? {
        do {
            _ = try verifier.verify(invocation: invocation, proofs: proofs, requiring: command)
            return nil
        } catch {
            return error
        }
    }

    @Test func anInvocationVerifiesOnceAndNamesWhoMayDoWhat() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope(commands: Self.commands)
        let delegation = try await charter.delegate("/email/send", to: agent.did)
        let verifier = verifier(charter)
        try await verifier.sync()

        let invocation = try invoke(delegation, args: ["to": "ada@example.com", "subject": "hi"])
        let verified = try verifier.verify(
            invocation: invocation, proofs: [delegation.bytes], requiring: try Command("/email/send"))
        #expect(verified.command.path == "/email/send")
        #expect(verified.arguments == ["to": "ada@example.com", "subject": "hi"])
        #expect(verified.agent == agent.did)
        #expect(verified.org == charter.owner.organization.id && verified.env == "live")
        #expect(verified.app == charter.owner.app.id && verified.envelope == envelope)
        #expect(verified.key == charter.owner.keyID)
        #expect(verified.delegations == [delegation])

        let again = refusal(verifier, invocation, proofs: [delegation.bytes])
        #expect(again?.code == .replayed, "the same invocation twice is a replay")
        let fresh = try invoke(delegation, args: ["to": "ada@example.com", "subject": "hi"])
        #expect(refusal(verifier, fresh, proofs: [delegation.bytes]) == nil, "a new invocation of the same call passes")
    }

    @Test func aRefusedInvocationIsNotRememberedAsSeen() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        try await charter.createEnvelope(commands: Self.commands)
        let delegation = try await charter.delegate("/email/send", to: agent.did)
        let verifier = verifier(charter)
        try await verifier.sync()
        let invocation = try invoke(delegation)
        let wrong = refusal(verifier, invocation, proofs: [delegation.bytes], requiring: try Command("/crm/read"))
        #expect(wrong?.code == .notCovered && wrong?.field == "cmd")
        #expect(refusal(verifier, invocation, proofs: [delegation.bytes], requiring: try Command("/email/send")) == nil)
    }

    @Test func everyPolicyOnTheChainHoldsOnTheArguments() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        try await charter.createEnvelope(commands: Self.commands)
        let delegation = try await charter.delegate(
            "/email/send", to: agent.did, policy: [["!=", ".priority", "urgent"]])
        let verifier = verifier(charter)
        try await verifier.sync()

        let outside = refusal(
            verifier, try invoke(delegation, args: ["to": "eve@evil.com"]), proofs: [delegation.bytes])
        #expect(outside?.code == .policyViolation)
        #expect(outside?.message.contains("like") == true, "names the statement: \(outside?.message ?? "")")
        let urgent = refusal(
            verifier, try invoke(delegation, args: ["to": "ada@example.com", "priority": "urgent"]),
            proofs: [delegation.bytes])
        #expect(urgent?.code == .policyViolation, "the request's own statement holds too")

        // A sub-agent's narrower delegation adds its policy; it cannot take any away.
        let subAgent = Agent()
        let narrower = try Delegation(
            issuer: agent.key, audience: subAgent.did, subject: delegation.subject, command: try Command("/email/send"),
            policy: try Policy([["==", ".to", "ada@example.com"]]), expiration: delegation.expiration)
        let byChain = try Invocation(
            issuer: subAgent.key, subject: try #require(delegation.subject), audience: service.did,
            command: try Command("/email/send"), arguments: ["to": "bob@example.com"],
            proofs: [delegation.cid, narrower.cid], expiration: Int64(Date().timeIntervalSince1970) + 60
        ).bytes
        #expect(refusal(verifier, byChain, proofs: [narrower.bytes, delegation.bytes])?.code == .policyViolation)
        let allowed = try Invocation(
            issuer: subAgent.key, subject: try #require(delegation.subject), audience: service.did,
            command: try Command("/email/send"), arguments: ["to": "ada@example.com"],
            proofs: [delegation.cid, narrower.cid], expiration: Int64(Date().timeIntervalSince1970) + 60
        ).bytes
        let verified = try verifier.verify(invocation: allowed, proofs: [narrower.bytes, delegation.bytes])
        #expect(verified.agent == subAgent.did && verified.envelope != nil)
    }

    @Test func addressTimeAndLifetimeAreChecked() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        try await charter.createEnvelope(commands: Self.commands)
        let delegation = try await charter.delegate("/email/send", to: agent.did, ttl: 600)
        let clock = TestClock()
        let verifier = verifier(charter, clock: clock)
        try await verifier.sync()
        let proofs = [delegation.bytes]

        #expect(
            refusal(verifier, try invoke(delegation, audience: Agent().did), proofs: proofs)?.code == .wrongAudience)
        #expect(refusal(verifier, try invoke(delegation, expiresIn: nil), proofs: proofs)?.field == "exp")
        #expect(refusal(verifier, try invoke(delegation, expiresIn: 301), proofs: proofs)?.field == "exp")
        #expect(refusal(verifier, try invoke(delegation, expiresIn: -31), proofs: proofs)?.code == .expired)
        #expect(refusal(verifier, try invoke(delegation, signer: Agent().key), proofs: proofs)?.code == .invalidChain)
        #expect(refusal(verifier, try invoke(delegation), proofs: [])?.code == .invalidChain, "a proof is missing")
        #expect(refusal(verifier, try invoke(delegation, "/crm/read"), proofs: proofs)?.code == .invalidChain)
        #expect(refusal(verifier, Array("garbage".utf8), proofs: proofs)?.code == .malformed)
        // The delegation is parsed and its signature checked once per exact bytes: other bytes are checked anew.
        #expect(refusal(verifier, try invoke(delegation), proofs: proofs) == nil)
        var tampered = delegation.bytes
        tampered[5] ^= 1  // inside the signature, after the array and byte-string heads
        let forged = refusal(verifier, try invoke(delegation), proofs: [tampered])
        #expect(forged?.code == .badSignature && forged?.field == "proofs[0]")

        // Remembered for as long as the leeway accepts it: past its exp, a replay is still refused as one.
        let once = try invoke(delegation, expiresIn: 10)
        #expect(refusal(verifier, once, proofs: proofs) == nil)
        clock.advance(35)
        #expect(refusal(verifier, once, proofs: proofs)?.code == .replayed)
        clock.set(0)

        let late = try invoke(delegation, expiresIn: 10)
        clock.advance(45)
        #expect(refusal(verifier, late, proofs: proofs)?.code == .expired, "10 s plus 30 s of leeway have passed")
        clock.advance(20)
        #expect(
            refusal(verifier, try invoke(delegation), proofs: proofs)?.code == .feedStale,
            "the feed's signed head is 65 s old: failing closed")
    }

    @Test func revokedDelegationsAndEnvelopesAreRefusedAfterASync() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope(commands: Self.commands)
        let first = try await charter.delegate("/email/send", to: agent.did)
        let second = try await charter.delegate("/crm/read", to: agent.did)
        let verifier = verifier(charter)
        try await verifier.sync()
        #expect(refusal(verifier, try invoke(first), proofs: [first.bytes]) == nil)

        #expect(try await charter.post("/v1/tokens/\(first.cid.string)/revoke").status == 200)
        #expect(refusal(verifier, try invoke(first), proofs: [first.bytes]) == nil, "not yet synced")
        try await verifier.sync()
        let revoked = refusal(verifier, try invoke(first), proofs: [first.bytes])
        #expect(revoked?.code == .revoked && revoked?.message.contains(first.cid.string) == true)
        #expect(refusal(verifier, try invoke(second, "/crm/read", args: [:]), proofs: [second.bytes]) == nil)

        #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
        try await verifier.sync()
        let killed = refusal(verifier, try invoke(second, "/crm/read", args: [:]), proofs: [second.bytes])
        #expect(killed?.code == .revoked && killed?.message.contains(envelope) == true)
    }

    @Test func anotherOrganizationsDelegationIsUntrusted() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        try await charter.createEnvelope(commands: Self.commands)
        let other = try await charter.secondOrganization()
        let otherIdentity = try await charter.controlPlane.authenticator.authenticate(
            authorization: "Bearer \(other.ownerKey)", ip: nil, path: "/v1/authorize")
        _ = try await charter.controlPlane.envelopes.create(
            appID: other.app.id, name: "theirs", capabilities: nil, commands: Self.commands, maxTTLSeconds: 600,
            by: otherIdentity, context: LiveCharter.context)
        let foreign = try await charter.controlPlane.tokens.delegate(
            DelegationRequest(audience: agent.did.string, command: "/email/send"), by: otherIdentity,
            context: LiveCharter.context
        ).delegation
        let verifier = verifier(charter)
        try await verifier.sync()
        #expect(refusal(verifier, try invoke(foreign), proofs: [foreign.bytes])?.code == .untrustedIssuer)

        // A delegation this organization's issuer signed, but claiming the other organization in its meta.
        let forged = try Delegation(
            issuer: try await charter.issuerKey(), audience: agent.did,
            subject: DID(publicKey: try await charter.issuerKey().publicKey),
            command: try Command("/email/send"), meta: ["org": .string(other.organization.id)],
            expiration: Int64(Date().timeIntervalSince1970) + 60)
        #expect(refusal(verifier, try invoke(forged), proofs: [forged.bytes])?.code == .untrustedIssuer)
    }

    @Test func theReplayCacheIsBoundedAndFailsClosedWhenFull() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        try await charter.createEnvelope(commands: Self.commands)
        let delegation = try await charter.delegate("/crm/read", to: agent.did)
        let verifier = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did], replayCapacity: 2))
        try await verifier.sync()
        for _ in 0..<2 {
            #expect(
                refusal(verifier, try invoke(delegation, "/crm/read", args: [:]), proofs: [delegation.bytes]) == nil)
        }
        let third = refusal(verifier, try invoke(delegation, "/crm/read", args: [:]), proofs: [delegation.bytes])
        #expect(third?.code == .overloaded && third?.status == .serviceUnavailable)
    }

    // MARK: RequireInvocation

    /// An app with `POST /send` behind `/email/send`; the handler echoes the recipient and the agent.
    func app(_ verifier: CharterVerifier) throws -> some ApplicationProtocol {
        let router = Router()
        router.group("send")
            .add(middleware: RequireInvocation(verifier, command: try Command("/email/send")))
            .post { _, _ in
                guard let verified = VerifiedInvocation.current, case .string(let to)? = verified.arguments["to"] else {
                    return "no invocation"
                }
                return "\(to) by \(verified.agent)"
            }
        return Application(router: router)
    }

    func send(_ client: some TestClientProtocol, _ invocation: [UInt8]?, proofs: [[UInt8]]) async throws -> (
        status: HTTPResponse.Status, body: JSONValue, text: String, challenge: String?
    ) {
        var headers: HTTPFields = [:]
        if let invocation { headers[.authorization] = "Bearer \(Data(invocation).base64EncodedString())" }
        if !proofs.isEmpty {
            headers[HTTPField.Name("ucans")!] = proofs.map { Data($0).base64EncodedString() }.joined(separator: ", ")
        }
        return try await client.execute(uri: "/send", method: .post, headers: headers) { response in
            let bytes = Array(response.body.readableBytesView)
            return (
                response.status, (try? JSONParser.parse(bytes)) ?? .null, String(decoding: bytes, as: UTF8.self),
                response.headers[.wwwAuthenticate]
            )
        }
    }

    @Test func theMiddlewareAnswersWithTheServersErrorShape() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope(commands: Self.commands)
        let delegation = try await charter.delegate("/email/send", to: agent.did)
        let crm = try await charter.delegate("/crm/read", to: agent.did)
        let verifier = verifier(charter)
        try await verifier.sync()
        let proofs = [delegation.bytes]

        try await app(verifier).test(.router) { client in
            let invocation = try invoke(delegation)
            let ok = try await send(client, invocation, proofs: proofs)
            #expect(ok.status == .ok && ok.text == "ada@example.com by \(agent.did)")

            let replay = try await send(client, invocation, proofs: proofs)
            #expect(replay.status == .unauthorized && replay.body["error"]?["code"] == "replayed")
            #expect(replay.challenge == #"Bearer error="invalid_token""#)
            let policy = try await send(client, try invoke(delegation, args: ["to": "eve@evil.com"]), proofs: proofs)
            #expect(policy.status == .forbidden && policy.body["error"]?["code"] == "policy_violation")
            #expect(policy.body["error"]?["field"] == "prf[0].pol")
            let other = try await send(client, try invoke(crm, "/crm/read", args: [:]), proofs: [crm.bytes])
            #expect(other.status == .forbidden && other.body["error"]?["code"] == "not_covered")
            #expect(other.challenge == nil, "no scope to ask for: a 1.0 invocation names its command")
            let missing = try await send(client, nil, proofs: [])
            #expect(missing.status == .unauthorized && missing.body["error"]?["code"] == "malformed")
            #expect(missing.challenge == "Bearer")
            let unpadded = try await send(client, Array("YWJj".utf8), proofs: proofs)
            #expect(unpadded.status == .unauthorized, "not an envelope")

            #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
            try await verifier.sync()
            let revoked = try await send(client, try invoke(delegation), proofs: proofs)
            #expect(revoked.status == .unauthorized && revoked.body["error"]?["code"] == "revoked")
        }
    }
}
