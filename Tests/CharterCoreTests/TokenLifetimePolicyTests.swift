import CharterCore
import Foundation
import Testing
import UCAN

/// The lifetime rules every mint, envelope and revocation follows.
@Suite struct TokenLifetimePolicyTests {
    static func envelope(maxTTL: Int) -> Envelope {
        Envelope(
            orgID: "org_a", appID: "app_a", environment: .live, name: "e", capabilities: .none, maxTTLSeconds: maxTTL,
            createdAt: Date(timeIntervalSince1970: 0), createdBy: nil)
    }

    @Test func aMintGetsTheDefaultOrLessAndNeverMoreThanTheEnvelope() throws {
        #expect(try TokenLifetimePolicy.mintTTL(requested: nil, envelope: Self.envelope(maxTTL: 3600)) == 900)
        #expect(try TokenLifetimePolicy.mintTTL(requested: nil, envelope: Self.envelope(maxTTL: 60)) == 60)
        #expect(try TokenLifetimePolicy.mintTTL(requested: 60, envelope: Self.envelope(maxTTL: 60)) == 60)
        #expect(throws: CharterError.self) {
            try TokenLifetimePolicy.mintTTL(requested: 0, envelope: Self.envelope(maxTTL: 60))
        }
        do {
            _ = try TokenLifetimePolicy.mintTTL(requested: 61, envelope: Self.envelope(maxTTL: 60))
            Issue.record("a lifetime past the envelope's was allowed")
        } catch {
            #expect(error.code == .ttlTooLong && error.field == "ttl_seconds")
        }
    }

    @Test func anEnvelopeAllowsOneSecondToOneDay() throws {
        try TokenLifetimePolicy.validateEnvelopeTTL(1)
        try TokenLifetimePolicy.validateEnvelopeTTL(86_400)
        for seconds in [0, -1, 86_401] {
            #expect(throws: CharterError.self, "\(seconds)") { try TokenLifetimePolicy.validateEnvelopeTTL(seconds) }
        }
    }

    @Test func revocationsAndRetiredIssuersOutlastWhatTheyCover() {
        let now = Date(timeIntervalSince1970: 1_000.75)
        #expect(TokenLifetimePolicy.expiration(mintedAt: now, ttl: 60) == 1_060, "whole seconds, never later")
        #expect(
            TokenLifetimePolicy.envelopeRevocationCovers(Self.envelope(maxTTL: 600), revokedAt: now)
                == now.addingTimeInterval(600))
        #expect(
            TokenLifetimePolicy.retiredIssuerVerifies(retiredAt: now, longestEnvelopeTTL: 600)
                == now.addingTimeInterval(900))
        #expect(
            TokenLifetimePolicy.revocationsListed(at: now) == now.addingTimeInterval(-300),
            "a revocation is listed five minutes past the last token it covers, for verifiers' clock leeway")
    }
}
