import Testing
import UCAN

/// Chains of depth 1–5 and each rule that can break one.
@Suite struct DelegationTests {
    static let mail = caps(["https://api.example.com/mail": ["email/send": [["max": .integer(100)]]]])
    let validator = Validator()

    /// alice → bob → carol → dave → erin → frank, each link passing `capabilities` on unchanged.
    static func chain(depth: Int, capabilities: Capabilities = mail) throws -> [UCAN] {
        let keys = [Keys.alice, Keys.bob, Keys.carol, Keys.dave, Keys.erin, Keys.frank]
        var tokens: [UCAN] = []
        for level in 0..<depth {
            tokens.append(
                try issue(
                    keys[level], to: keys[level + 1], capabilities: capabilities,
                    expiration: now + 3600 - Int64(level), proofs: tokens.last.map { [$0] } ?? []))
        }
        return tokens
    }

    @Test(arguments: 1...5)
    func chainsOfEveryDepthValidate(depth: Int) throws {
        let tokens = try Self.chain(depth: depth)
        let chain = try validator.validate(tokens.last!, proofs: ProofStore(tokens.dropLast()), now: now)
        #expect(chain.rootIssuers == [Keys.alice.did])
        #expect(chain.issuers.count == depth)
        #expect(chain.proofs.count == depth - 1)
        let strings = try validator.validate(tokens.last!.encoded, proofs: tokens.dropLast().map(\.encoded), now: now)
        #expect(strings.token == tokens.last!)
    }

    @Test(arguments: 2...5)
    func aMissingProofAnywhereIsNamed(depth: Int) throws {
        let tokens = try Self.chain(depth: depth)
        let error = #expect(throws: UCANError.self) {
            try validator.validate(tokens.last!, proofs: ProofStore(tokens.dropFirst().dropLast()), now: now)
        }
        #expect(error?.code == .unknownProof)
        #expect(error?.field == Array(repeating: "prf[0]", count: depth - 1).joined(separator: "."))
    }

    @Test func aProofForSomeoneElseIsRefused() throws {
        let root = try issue(Keys.alice, to: Keys.carol, capabilities: Self.mail)
        let leaf = try issue(Keys.bob, to: Keys.dave, capabilities: Self.mail, proofs: [root])
        let error = #expect(throws: UCANError.self) {
            try validator.validate(leaf, proofs: ProofStore([root]), now: now)
        }
        #expect(error?.code == .audienceMismatch)
        #expect(error?.field == "prf[0].aud")
    }

    @Test func timeWindowsMustNest() throws {
        let root = try issue(
            Keys.alice, to: Keys.bob, capabilities: Self.mail, notBefore: now - 100, expiration: now + 100)
        let outlives = try issue(
            Keys.bob, to: Keys.carol, capabilities: Self.mail, notBefore: now - 50, expiration: now + 200,
            proofs: [root])
        let never = try issue(
            Keys.bob, to: Keys.carol, capabilities: Self.mail, notBefore: now - 50, expiration: nil, proofs: [root])
        let early = try issue(
            Keys.bob, to: Keys.carol, capabilities: Self.mail, notBefore: now - 200, expiration: now + 50,
            proofs: [root])
        let open = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, expiration: now + 50, proofs: [root])
        for (token, field) in [(outlives, "exp"), (never, "exp"), (early, "nbf"), (open, "nbf")] {
            let error = #expect(throws: UCANError.self) {
                try validator.validate(token, proofs: ProofStore([root]), now: now)
            }
            #expect(error?.code == .timeWindowNotNested)
            #expect(error?.field == field)
        }
        let inside = try issue(
            Keys.bob, to: Keys.carol, capabilities: Self.mail, notBefore: now - 50, expiration: now + 50, proofs: [root]
        )
        #expect(throws: Never.self) { try validator.validate(inside, proofs: ProofStore([root]), now: now) }
    }

    @Test func expiryAndNotBeforeHonourTheLeeway() throws {
        let token = try issue(Keys.alice, to: Keys.bob, notBefore: now + 10, expiration: now + 20)
        #expect((#expect(throws: UCANError.self) { try validator.validate(token, now: now) })?.code == .notYetValid)
        #expect((#expect(throws: UCANError.self) { try validator.validate(token, now: now + 20) })?.code == .expired)
        #expect(throws: Never.self) { try validator.validate(token, now: now + 10) }
        let lenient = Validator(policy: ValidationPolicy(leeway: 30))
        #expect(throws: Never.self) { try lenient.validate(token, now: now) }
        #expect(throws: Never.self) { try lenient.validate(token, now: now + 49) }
        #expect((#expect(throws: UCANError.self) { try lenient.validate(token, now: now + 50) })?.code == .expired)
        #expect((#expect(throws: UCANError.self) { try lenient.validate(token, now: now - 21) })?.code == .notYetValid)
    }

    @Test func anExpiredProofFailsTheChain() throws {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail, expiration: now + 10)
        let leaf = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, expiration: now + 5, proofs: [root])
        let error = #expect(throws: UCANError.self) {
            try validator.validate(leaf, proofs: ProofStore([root]), now: now + 5)
        }
        #expect(error?.code == .expired)
        #expect(error?.field == "exp", "the leaf itself expires first")
    }

    @Test func aForgedProofSignatureIsFound() throws {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail)
        let forged = craft(
            payload: String(decoding: Base64URL.decode(root.encoded.split(separator: ".")[1])!, as: UTF8.self),
            signer: Keys.bob)
        let forgedRoot = try UCAN(parsing: forged)
        let leaf = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, proofs: [forgedRoot])
        let error = #expect(throws: UCANError.self) {
            try validator.validate(leaf, proofs: ProofStore([forgedRoot]), now: now)
        }
        #expect(error?.code == .invalidSignature)
        #expect(error?.field == "prf[0].signature")
    }

    @Test func aDelegationCannotBeNewerThanItsProofButMayBeOlderNever() throws {
        let root = try issue(
            Keys.alice, to: Keys.bob, capabilities: Self.mail, version: SemanticVersion(major: 0, minor: 10, patch: 1))
        let leaf = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, proofs: [root])
        let error = #expect(throws: UCANError.self) {
            try validator.validate(leaf, proofs: ProofStore([root]), now: now)
        }
        #expect(error?.code == .versionDowngrade)
    }

    @Test func trustedIssuersAndAudiencesArePolicy() throws {
        let tokens = try Self.chain(depth: 3)
        let store = ProofStore(tokens.dropLast())
        let strict = Validator(policy: ValidationPolicy(trustedIssuers: [Keys.alice.did], audiences: [Keys.dave.did]))
        #expect(throws: Never.self) { try strict.validate(tokens[2], proofs: store, now: now) }
        let otherRoot = Validator(policy: ValidationPolicy(trustedIssuers: [Keys.bob.did]))
        let untrusted = #expect(throws: UCANError.self) { try otherRoot.validate(tokens[2], proofs: store, now: now) }
        #expect(untrusted?.code == .untrustedIssuer)
        #expect(untrusted?.field == "prf[0].prf[0].iss")
        let otherAudience = Validator(policy: ValidationPolicy(audiences: [Keys.carol.did]))
        #expect(
            (#expect(throws: UCANError.self) { try otherAudience.validate(tokens[2], proofs: store, now: now) })?.code
                == .audienceNotAccepted)
    }

    @Test func depthAndProofCountAreBounded() throws {
        let tokens = try Self.chain(depth: 5)
        let shallow = Validator(policy: ValidationPolicy(limits: Limits(maxDepth: 4)))
        let error = #expect(throws: UCANError.self) {
            try shallow.validate(tokens[4], proofs: ProofStore(tokens), now: now)
        }
        #expect(error?.code == .depthExceeded)
        let few = Validator(policy: ValidationPolicy(limits: Limits(maxProofs: 2)))
        #expect(
            (#expect(throws: UCANError.self) { try few.validate(tokens[4], proofs: ProofStore(tokens), now: now) })?
                .code == .tooLarge)
    }

    @Test func aSharedProofIsCheckedOnceAndDiamondsValidate() throws {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail)
        let left = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, proofs: [root])
        let right = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, expiration: now + 100, proofs: [root])
        let leaf = try issue(
            Keys.carol, to: Keys.dave, capabilities: Self.mail, expiration: now + 50, proofs: [left, right])
        // Room for three proofs checked, no more: walking `root` a second time, through `right`, would be a
        // fourth and fail with too_large.
        let exact = Validator(policy: ValidationPolicy(limits: Limits(maxProofs: 3)))
        let chain = try exact.validate(leaf, proofs: ProofStore([root, left, right]), now: now)
        #expect(chain.proofs.count == 3)
        #expect(chain.issuers == [Keys.alice.did, Keys.bob.did, Keys.carol.did])
        let tooFew = Validator(policy: ValidationPolicy(limits: Limits(maxProofs: 2)))
        let error = #expect(throws: UCANError.self, "the limit does count proofs") {
            try tooFew.validate(leaf, proofs: ProofStore([root, left, right]), now: now)
        }
        #expect(error?.code == .tooLarge)
    }

    @Test func aProofListedTwiceIsCheckedOnce() throws {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail)
        let leaf = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, proofs: [root, root, root])
        // One proof checked at most: a second walk of `root` would pass the limit.
        let once = Validator(policy: ValidationPolicy(limits: Limits(maxProofs: 1)))
        let chain = try once.validate(leaf, proofs: ProofStore([root]), now: now)
        #expect(chain.proofs.count == 1)
    }

    @Test func aProofThatIsNotInTheStoreByBLAKE3IsUnknown() throws {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail)
        let other = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail, expiration: now + 1)
        let payload =
            #"{"aud":"\#(Keys.carol.did)","cap":{},"exp":\#(now + 10),"iss":"\#(Keys.bob.did)","prf":["\#(CID(of: root, hasher: .blake3))"],"ucv":"0.10.0"}"#
        let leaf = try UCAN(parsing: craft(payload: payload, signer: Keys.bob))
        #expect(throws: Never.self) { try validator.validate(leaf, proofs: ProofStore([other, root]), now: now) }
        let error = #expect(throws: UCANError.self) {
            try validator.validate(leaf, proofs: ProofStore([other]), now: now)
        }
        #expect(error?.code == .unknownProof)
    }
}
