import CharterCore
import CharterTestSupport
import Foundation
import Testing
import UCAN

@testable import CharterVerifier

/// Revocations travel from a real Charter server to the verifier in one sync; forged entries do not.
@Suite struct RevocationTests {
    let service = Agent()
    let mail = Capability(resource: "mailto:a@example.com", ability: "email/send")

    func verifier(_ charter: LiveCharter, clock: TestClock = TestClock()) -> CharterVerifier {
        CharterVerifier(
            VerifierConfiguration(server: charter.url, organizations: charter.organizations, audiences: [service.did]),
            now: clock.now)
    }

    @Test func revokingTheEnvelopeRevokesRootAndDelegatedTokensAfterOneSync() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope()
        let agent = Agent()
        let root = try await charter.mint(for: service.did)
        let agentRoot = try await charter.mint(for: agent.did)
        let delegated = try agent.delegate(agentRoot, to: service.did, capabilities: [mail])
        let verifier = verifier(charter)
        try await verifier.sync()
        _ = try verifier.verify(root.encoded)
        _ = try verifier.verify(delegated.encoded, proofs: [agentRoot.encoded])

        let reply = try await charter.post("/v1/envelopes/\(envelope)/revoke")
        #expect(reply.status == 200)
        try await verifier.sync()

        for (token, proofs) in [(root, [UCAN]()), (delegated, [agentRoot])] {
            let error = #expect(throws: VerificationError.self) {
                try verifier.verify(token.encoded, proofs: proofs.map(\.encoded), requiring: mail)
            }
            #expect(error?.code == .revoked)
            #expect(error?.description == "revoked: envelope \(envelope) is revoked")
        }
    }

    @Test func revokingOneTokenByCIDRevokesItAndWhatIsDelegatedFromIt() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let agent = Agent()
        let revoked = try await charter.mint(for: agent.did)
        let kept = try await charter.mint(for: service.did)
        let delegated = try agent.delegate(revoked, to: service.did, capabilities: [mail])
        let verifier = verifier(charter)
        try await verifier.sync()
        _ = try verifier.verify(delegated.encoded, proofs: [revoked.encoded])

        let reply = try await charter.post("/v1/tokens/\(revoked.cid)/revoke")
        #expect(reply.status == 200)
        try await verifier.sync()

        let error = #expect(throws: VerificationError.self) {
            try verifier.verify(delegated.encoded, proofs: [revoked.encoded])
        }
        #expect(error?.code == .revoked)
        #expect(error?.message.contains(revoked.cid.string) == true)
        #expect(throws: Never.self) { try verifier.verify(kept.encoded) }

        // The next round resumes after the last entry and still holds the earlier one.
        let envelope = try await charter.createEnvelope()
        let later = try await charter.mint(for: service.did, envelope: envelope)
        #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
        try await verifier.sync()
        #expect(verifier.snapshot.feeds[FeedKey(org: charter.owner.organization.id, environment: "live")]?.since == 2)
        #expect(throws: VerificationError.self) { try verifier.verify(later.encoded) }
        #expect(throws: VerificationError.self) { try verifier.verify(delegated.encoded, proofs: [revoked.encoded]) }
    }

    @Test func forgedFeedEntriesAreIgnored() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelopeID = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let issuer = try await charter.issuerKey()
        let caller = try await charter.ownerIdentity()
        let now = Date()
        let org = charter.owner.organization.id
        func audit(_ action: String) -> AuditEvent {
            AuditEvent(time: now, orgID: org, keyID: caller.key.id, action: action, outcome: .success)
        }

        // An envelope entry naming the real issuer, but signed by another key.
        let impostor = Ed25519.SigningKey()
        var badSignature = RevocationEntry.signed(
            .envelope, subject: envelopeID, orgID: org, environment: .live, by: impostor, at: now,
            coversUntil: now.addingTimeInterval(600))
        badSignature.issuer = DID(publicKey: issuer.publicKey)
        var envelope = try await charter.controlPlane.envelopes.get(id: envelopeID, by: caller)
        envelope.revokedAt = now
        #expect(try await charter.store.revokeEnvelope(envelope, entry: badSignature, audit: audit("forged")))

        // A token entry, well signed, by a key Charter never published.
        let minted = try #require(try await charter.store.mintedToken(cid: root.cid, orgID: org))
        var token = minted
        token.revokedAt = now
        let unknownIssuer = RevocationEntry.signed(
            .token, subject: root.cid.string, orgID: org, environment: .live, by: impostor, at: now,
            coversUntil: minted.expiresAt)
        #expect(try await charter.store.revokeToken(token, entry: unknownIssuer, audit: audit("forged")))

        let verifier = verifier(charter)
        try await verifier.sync()
        #expect(verifier.snapshot.feeds[FeedKey(org: charter.owner.organization.id, environment: "live")]?.since == 2)
        #expect(verifier.snapshot.revokedTokens.isEmpty && verifier.snapshot.revokedEnvelopes.isEmpty)
        #expect(throws: Never.self) { try verifier.verify(root.encoded, requiring: mail) }
    }

    @Test func entriesAreDroppedOnceEverythingTheyCoverHasExpired() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        let envelope = try await charter.createEnvelope(maxTTL: 120)
        let root = try await charter.mint(for: service.did, ttl: 60)
        #expect(try await charter.post("/v1/envelopes/\(envelope)/revoke").status == 200)
        let clock = TestClock()
        let verifier = verifier(charter, clock: clock)
        try await verifier.sync()
        #expect(verifier.snapshot.revokedEnvelopes[envelope] != nil)
        #expect(throws: VerificationError.self) { try verifier.verify(root.encoded) }

        // covers_until is 120 s after the revocation; the local copy goes after that plus the leeway.
        clock.set(120 + 31)
        try await verifier.sync()
        #expect(verifier.snapshot.revokedEnvelopes.isEmpty)
    }
}
