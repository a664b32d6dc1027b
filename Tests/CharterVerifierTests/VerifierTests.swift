import CharterCore
import CharterTestSupport
import Foundation
import Testing
import UCAN

@testable import CharterVerifier

/// The verifier against a real Charter server on loopback: chains, audiences, capabilities and facts.
@Suite struct VerifierTests {
    let service = Agent()
    let mail = Capability(resource: "mailto:a@example.com", ability: "email/send")

    func verifier(_ charter: LiveCharter, clock: TestClock = TestClock(), maxFeedAge: TimeInterval = 60)
        -> CharterVerifier
    {
        CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did],
                maxFeedAge: maxFeedAge),
            now: clock.now)
    }

    @Test func rootTokenVerifiesWithCharterFacts() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let verifier = verifier(charter)
        try await verifier.sync()

        let verified = try verifier.verify(root.encoded, requiring: mail)
        #expect(verified.token == root)
        #expect(verified.envelope == envelope)
        #expect(verified.org == charter.owner.organization.id)
        #expect(verified.app == charter.owner.app.id)
        #expect(verified.env == "live")
        #expect(verified.key == charter.owner.keyID)
        #expect(verified.chain.rootIssuers == [root.payload.issuer])
    }

    @Test func agentDelegationVerifiesWithTheRootAsProof() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let agent = Agent()
        let root = try await charter.mint(for: agent.did)
        let delegated = try agent.delegate(root, to: service.did, capabilities: [mail])
        let verifier = verifier(charter)
        try await verifier.sync()

        let verified = try verifier.verify(delegated.encoded, proofs: [root.encoded], requiring: mail)
        #expect(verified.token == delegated)
        #expect(verified.chain.issuers == [agent.did, root.payload.issuer])
        #expect(verified.envelope != nil)
        // Verified twice: the second call takes the proof from the cache.
        #expect(try verifier.verify(delegated.encoded, proofs: [root.encoded]).token == delegated)
        // The root alone is addressed to the agent, not to this service.
        let error = #expect(throws: VerificationError.self) { try verifier.verify(root.encoded) }
        #expect(error?.code == .wrongAudience)
        let missing = #expect(throws: VerificationError.self) { try verifier.verify(delegated.encoded) }
        #expect(missing?.code == .invalidChain)
    }

    @Test func wideningDelegationFails() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope(capabilities: ["mailto:*": ["email/send": [[:]]]])
        let agent = Agent()
        let root = try await charter.mint(
            for: agent.did, capabilities: ["mailto:a@example.com": ["email/send": [[:]]]])
        let wider = try agent.delegate(
            root, to: service.did, capabilities: [Capability(resource: "mailto:*", ability: "email/send")])
        let verifier = verifier(charter)
        try await verifier.sync()

        let error = #expect(throws: VerificationError.self) {
            try verifier.verify(wider.encoded, proofs: [root.encoded])
        }
        #expect(error?.code == .invalidChain)
        let outlasting = try agent.delegate(
            root, to: service.did, capabilities: [mail], expiration: root.payload.expiration! + 60)
        let late = #expect(throws: VerificationError.self) {
            try verifier.verify(outlasting.encoded, proofs: [root.encoded])
        }
        #expect(late?.code == .invalidChain)
    }

    @Test func wrongAudienceFails() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: Agent().did)
        let verifier = verifier(charter)
        try await verifier.sync()

        let error = #expect(throws: VerificationError.self) { try verifier.verify(root.encoded) }
        #expect(error?.code == .wrongAudience)
    }

    @Test func uncoveredCapabilityIsNotCovered() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(
            for: service.did, capabilities: ["mailto:a@example.com": ["email/send": [[:]]]])
        let verifier = verifier(charter)
        try await verifier.sync()

        #expect(throws: Never.self) { try verifier.verify(root.encoded, requiring: mail) }
        for wanted in [
            Capability(resource: "mailto:b@example.com", ability: "email/send"),
            Capability(resource: "mailto:a@example.com", ability: "email/delete"),
        ] {
            let error = #expect(throws: VerificationError.self) {
                try verifier.verify(root.encoded, requiring: wanted)
            }
            #expect(error?.code == .notCovered)
            #expect(error?.message.contains(wanted.resource) == true)
        }
    }

    /// A proof's signature is checked by the walk up the chain, not when it is parsed, and remembered only once a
    /// chain it is on has validated: a proof with another's signature is refused every time it is reached, and
    /// the real chain, whose root was first carried beside a refused token, verifies.
    @Test func proofSignaturesAreCheckedWhenReachedAndRememberedOnlyAfterAValidChain() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let agent = Agent()
        let root = try await charter.mint(for: agent.did)
        let other = try await charter.mint(for: agent.did)
        let verifier = verifier(charter)
        try await verifier.sync()
        let delegated = try agent.delegate(root, to: service.did, capabilities: [mail])

        // The root's text with another token's signature: same payload, so the same cited CID cannot be made;
        // cite the spliced text's own CID instead.
        let parts = root.encoded.split(separator: ".")
        let spliced = "\(parts[0]).\(parts[1]).\(other.encoded.split(separator: ".")[2])"
        let splicedToken = try UCAN(parsing: spliced)
        let citingSpliced = try agent.delegate(splicedToken, to: service.did, capabilities: [mail])
        for _ in 0..<2 {
            let error = #expect(throws: VerificationError.self) {
                try verifier.verify(citingSpliced.encoded, proofs: [spliced], requiring: mail)
            }
            #expect(error?.code == .badSignature)
        }
        // Carried, unused, beside a refused chain: the good root is not remembered as verified by that.
        let stranger = Agent()
        let selfIssued = try UCAN(
            signing: Payload(
                issuer: stranger.did, audience: service.did, expiration: root.payload.expiration,
                capabilities: try Capabilities([mail])),
            with: stranger.key)
        #expect(throws: VerificationError.self) { try verifier.verify(selfIssued.encoded, proofs: [root.encoded]) }
        // And the real chain verifies, again and again.
        for _ in 0..<3 {
            #expect(try verifier.verify(delegated.encoded, proofs: [root.encoded], requiring: mail).app != nil)
        }
    }

    /// A parse cache is bounded by the bytes of what it holds, not only by its count.
    @Test func theParseCacheIsBoundedByBytes() throws {
        let cache = BoundedCache<String, Int> { $0.utf8.count }
        var made = 0
        let big = String(repeating: "a", count: (1 << 20) - 16)
        for index in 0..<16 {
            _ = cache.value(for: "\(index)" + big) {
                made += 1; return index
            }
        }
        #expect(made == 16)
        _ = cache.value(for: "0" + big) {
            made += 1; return 0
        }
        #expect(made == 16, "just under 16 MiB: all kept")
        _ = cache.value(for: "16" + big) {
            made += 1; return 16
        }
        _ = cache.value(for: "0" + big) {
            made += 1; return 0
        }
        #expect(made == 18, "over the bytes: emptied, so the first is made again")
    }

    @Test func forgedAndUntrustedTokensFail() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let verifier = verifier(charter)
        try await verifier.sync()

        // Self-issued: a well-signed root from a key Charter never published.
        let stranger = Agent()
        let selfIssued = try UCAN(
            signing: Payload(
                issuer: stranger.did, audience: service.did, expiration: root.payload.expiration,
                capabilities: try Capabilities([mail])),
            with: stranger.key)
        let untrusted = #expect(throws: VerificationError.self) { try verifier.verify(selfIssued.encoded) }
        #expect(untrusted?.code == .untrustedIssuer)

        // The root's signature over other bytes.
        let parts = root.encoded.split(separator: ".")
        let other = try await charter.mint(for: service.did)
        let spliced = "\(parts[0]).\(parts[1]).\(other.encoded.split(separator: ".")[2])"
        let forged = #expect(throws: VerificationError.self) { try verifier.verify(spliced) }
        #expect(forged?.code == .badSignature)

        for garbage in ["", "not-a-token", "a.b.c"] {
            let error = #expect(throws: VerificationError.self) { try verifier.verify(garbage) }
            #expect(error?.code == .malformed)
        }
        let badProof = #expect(throws: VerificationError.self) {
            try verifier.verify(root.encoded, proofs: ["x.y.z"])
        }
        #expect(badProof?.code == .malformed)
    }

    @Test func beforeTheFirstSyncNothingVerifies() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let verifier = verifier(charter)

        #expect(verifier.lastSuccessfulSync == nil)
        let error = #expect(throws: VerificationError.self) { try verifier.verify(root.encoded) }
        #expect(error?.code == .notSynced)
        try await verifier.sync()
        #expect(verifier.lastSuccessfulSync != nil)
        #expect(throws: Never.self) { try verifier.verify(root.encoded) }
    }

    @Test func aForgedProofIsRefusedEveryTimeCachedOrNot() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let agent = Agent()
        let root = try await charter.mint(for: agent.did)
        let other = try await charter.mint(for: agent.did)
        // The root's header and payload with another token's signature: it parses, but does not verify.
        let parts = root.encoded.split(separator: ".")
        let forged = "\(parts[0]).\(parts[1]).\(other.encoded.split(separator: ".")[2])"
        let citingForged = try agent.delegate(try UCAN(parsing: forged), to: service.did, capabilities: [mail])
        let delegated = try agent.delegate(root, to: service.did, capabilities: [mail])
        let verifier = verifier(charter)
        try await verifier.sync()

        for _ in 0..<2 {
            let error = #expect(throws: VerificationError.self) {
                try verifier.verify(citingForged.encoded, proofs: [forged])
            }
            #expect(error?.code == .badSignature)
            #expect(error?.message.hasPrefix("prf[0].signature") == true)
        }
        #expect(throws: Never.self) { try verifier.verify(delegated.encoded, proofs: [root.encoded]) }
    }
}
