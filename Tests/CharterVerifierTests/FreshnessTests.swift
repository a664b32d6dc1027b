import CharterCore
import CharterTestSupport
import Foundation
import Testing
import UCAN

@testable import CharterVerifier

/// Time: fail closed on stale data, tolerate skew inside the leeway, keep retired issuers within their window.
@Suite struct FreshnessTests {
    let service = Agent()

    @Test func aStoppedServerIsToleratedUntilMaxFeedAgeThenVerificationFailsClosed() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let clock = TestClock()
        let verifier = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did], maxFeedAge: 60),
            now: clock.now)
        try await verifier.sync()
        let synced = try #require(verifier.lastSuccessfulSync)
        let before = verifier.snapshot

        await charter.stop()
        clock.advance(50)
        await #expect(throws: FeedError.self, "the server is gone") { try await verifier.sync() }
        #expect(verifier.lastSuccessfulSync == synced)
        #expect(verifier.snapshot === before)
        #expect(throws: Never.self) { try verifier.verify(root.encoded) }

        clock.advance(11)
        let error = #expect(throws: VerificationError.self) { try verifier.verify(root.encoded) }
        #expect(error?.code == .feedStale)
    }

    @Test(arguments: [
        (offset: 20.0, code: nil), (offset: 40.0, code: VerificationError.Code.expired),
    ])
    func expiryIsCheckedWithLeeway(offset: TimeInterval, code: VerificationError.Code?) async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did, ttl: 60)
        let clock = TestClock()
        let verifier = CharterVerifier(
            // Freshness is judged against the server's signed time, which these shifted clocks would make stale.
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did], leeway: 30,
                maxFeedAge: 3600), now: clock.now)
        // The verifier's clock runs ahead of the token's expiry by `offset`.
        let expiry = TimeInterval(root.payload.expiration!)
        clock.set(expiry + offset - Date().timeIntervalSince1970)
        try await verifier.sync()
        let result = Result { () throws(VerificationError) in try verifier.verify(root.encoded) }
        #expect(result.failure?.code == code)
        #expect(result.failure?.field == (code == nil ? nil : "exp"), "the field at fault, as the chain names it")
    }

    @Test(arguments: [
        (offset: 20.0, code: nil), (offset: 40.0, code: VerificationError.Code.notYetValid),
    ])
    func notBeforeIsCheckedWithLeeway(offset: TimeInterval, code: VerificationError.Code?) async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let agent = Agent()
        let root = try await charter.mint(for: agent.did, ttl: 300)
        let start = Int64(Date().timeIntervalSince1970) + 100
        let delegated = try agent.delegate(
            root, to: service.did, capabilities: root.payload.capabilities.all, notBefore: start)
        let clock = TestClock()
        let verifier = CharterVerifier(
            // Freshness is judged against the server's signed time, which these shifted clocks would make stale.
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did], leeway: 30,
                maxFeedAge: 3600), now: clock.now)
        // The verifier's clock runs behind the delegation's nbf by `offset`.
        clock.set(TimeInterval(start) - offset - Date().timeIntervalSince1970)
        try await verifier.sync()
        let result = Result { () throws(VerificationError) in
            try verifier.verify(delegated.encoded, proofs: [root.encoded])
        }
        #expect(result.failure?.code == code)
    }

    @Test func tokensOfARetiredIssuerVerifyUntilItsWindowCloses() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope(maxTTL: 600)
        let old = try await charter.mint(for: service.did)
        let oldKey = try await charter.issuerKey()
        // A long-lived root from the old issuer: Charter would not mint it, but it shows the window at work.
        let longLived = try UCAN(
            signing: Payload(
                issuer: old.payload.issuer, audience: service.did,
                expiration: Int64(Date().timeIntervalSince1970) + 7200, facts: old.payload.facts,
                capabilities: old.payload.capabilities),
            with: oldKey)

        let rotated = try await charter.post("/v1/signing-keys/rotate", json: ["environment": "live"])
        #expect(rotated.status == 200)
        let fresh = try await charter.mint(for: service.did)
        #expect(fresh.payload.issuer != old.payload.issuer)

        let clock = TestClock()
        let verifier = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did], maxFeedAge: 3600),
            now: clock.now)
        try await verifier.sync()
        #expect(verifier.snapshot.trusted == [old.payload.issuer, fresh.payload.issuer])
        for token in [old, fresh, longLived] {
            #expect(throws: Never.self) { try verifier.verify(token.encoded) }
        }

        // not_after is the longest envelope lifetime plus five minutes after the rotation.
        let notAfter = try #require(verifier.snapshot.trust.windows[old.payload.issuer])
        clock.set(notAfter.timeIntervalSinceNow + 1)
        try await verifier.sync()
        let error = #expect(throws: VerificationError.self) { try verifier.verify(longLived.encoded) }
        #expect(error?.code == .untrustedIssuer)
    }

    @Test func pinnedIssuersWithoutAServerVerifyWithoutRevocation() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let root = try await charter.mint(for: service.did)
        let pinned = CharterVerifier(
            VerifierConfiguration(
                server: nil, organizations: charter.organizations, issuers: .pinned([root.payload.issuer]),
                audiences: [service.did]))
        #expect(throws: Never.self) { try pinned.verify(root.encoded) }
        let nothingToSync = await #expect(throws: FeedError.self) { try await pinned.sync() }
        #expect(nothingToSync?.description.contains("no server is configured") == true)

        let stranger = CharterVerifier(
            VerifierConfiguration(
                server: nil, organizations: charter.organizations, issuers: .pinned([Agent().did]),
                audiences: [service.did]))
        let error = #expect(throws: VerificationError.self) { try stranger.verify(root.encoded) }
        #expect(error?.code == .untrustedIssuer)

        // Pinned issuers with a server still sync the feed and fail closed without it.
        let synced = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, issuers: .pinned([root.payload.issuer]),
                audiences: [service.did]))
        let unsynced = #expect(throws: VerificationError.self) { try synced.verify(root.encoded) }
        #expect(unsynced?.code == .notSynced)
        try await synced.sync()
        #expect(throws: Never.self) { try synced.verify(root.encoded) }
    }
}
