import Testing
import UCAN

/// Hostile tokens that are well-formed enough to reach the validator.
@Suite struct CraftedAttackTests {
    static let mail = caps(["https://api.example.com/mail": ["email/send": [[:]]]])

    @Test func aSignatureLiftedFromAnotherPayloadOfTheSameIssuerIsRefused() throws {
        let granted = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail, expiration: now + 60)
        let wanted = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail, expiration: now + 86_400)
        let signed = wanted.encoded.split(separator: ".").prefix(2).joined(separator: ".")
        let lifted = signed + "." + granted.encoded.split(separator: ".")[2]
        let token = try UCAN(parsing: String(lifted))
        #expect(!token.hasValidSignature)
        let error = #expect(throws: UCANError.self) { try Validator().validate(token, now: now) }
        #expect(error?.code == .invalidSignature)
    }

    @Test func aTenThousandDeepChainIsAnErrorNotACrash() throws {
        // alice → bob → alice → … ten thousand links, each citing the one before.
        var tokens: [UCAN] = []
        for level in 0..<10_000 {
            let (from, to) = level.isMultiple(of: 2) ? (Keys.alice, Keys.bob) : (Keys.bob, Keys.alice)
            tokens.append(try issue(from, to: to, capabilities: Self.mail, proofs: tokens.last.map { [$0] } ?? []))
        }
        let leaf = tokens.removeLast()
        let validator = Validator()
        let deep = #expect(throws: UCANError.self) {
            try validator.validate(leaf, proofs: ProofStore(tokens), now: now)
        }
        #expect(deep?.code == .depthExceeded)
        // Handed over as text (as a `ucans` header would bring them), the proofs are refused before parsing.
        let many = #expect(throws: UCANError.self) {
            try validator.validate(leaf.encoded, proofs: tokens.map(\.encoded), now: now)
        }
        #expect(many?.code == .tooLarge)
    }
}
