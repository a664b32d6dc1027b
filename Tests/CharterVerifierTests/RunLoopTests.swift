import CharterTestSupport
import Foundation
import Testing
import UCAN

@testable import CharterVerifier

/// The verifier as a Service: it syncs at once, and early when a root from an unknown issuer shows up.
@Suite struct RunLoopTests {
    let service = Agent()

    @Test func runSyncsAtOnceAndTrustsARotatedIssuerWithoutWaitingForTheInterval() async throws {
        let charter = try await LiveCharter.start()
        defer { Task { await charter.remove() } }
        _ = try await charter.createEnvelope()
        let old = try await charter.mint(for: service.did)
        let verifier = CharterVerifier(
            VerifierConfiguration(
                server: charter.url, organizations: charter.organizations, audiences: [service.did], syncInterval: 3600)
        )
        let running = Task { try await verifier.run() }
        defer { running.cancel() }

        try await eventually { verifier.lastSuccessfulSync != nil }
        #expect(throws: Never.self) { try verifier.verify(old.encoded) }

        #expect(try await charter.post("/v1/signing-keys/rotate", json: ["environment": "live"]).status == 200)
        let fresh = try await charter.mint(for: service.did)
        let first = #expect(throws: VerificationError.self) { try verifier.verify(fresh.encoded) }
        #expect(first?.code == .untrustedIssuer)
        try await eventually { (try? verifier.verify(fresh.encoded)) != nil }
        #expect(throws: Never.self) { try verifier.verify(old.encoded) }

        running.cancel()
        _ = await running.result
    }

    /// Polls `condition` every 50 ms for up to 5 s.
    func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<100 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the condition did not become true within 5 s")
    }
}
