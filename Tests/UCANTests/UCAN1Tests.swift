import Testing

@testable import UCAN

/// UCAN 1.0 tokens: commands, envelopes, delegations, invocations, chain validation and the replay cache.
@Suite struct UCAN1Tests {
    struct Principal {
        let key = Ed25519.SigningKey()
        var did: DID { DID(publicKey: key.publicKey) }
    }

    static let now: Int64 = 1_800_000_000

    @Test(arguments: ["/", "/crud", "/crud/create", "/foo/bar/baz/qux/quux", "/ほげ/ふが"])
    func validCommandsParse(path: String) throws {
        #expect(try Command(path).path == path)
    }

    @Test(arguments: ["", "crud", "/crud/", "//", "/crud//read", "/Crud", "/a b", "/a\u{7}"])
    func invalidCommandsAreRefused(path: String) {
        #expect(throws: UCANError.self) { try Command(path) }
    }

    @Test(arguments: [
        ("/", "/anything/at/all", true), ("/crypto", "/crypto/sign", true), ("/crypto", "/crypto", true),
        ("/crypto", "/cryptocurrency", false), ("/crypto/sign", "/crypto", false), ("/msg", "/stack/pop", false),
    ])
    func shorterCommandsProveLongerOnes(parent: String, child: String, proves: Bool) throws {
        #expect(try Command(parent).proves(Command(child)) == proves)
    }

    @Test func aDelegationRoundTripsAndTheSameInputsGiveTheSameBytes() throws {
        let alice = Principal()
        let bob = Principal()
        let policy = try Policy([["like", ".to", "*@example.com"]])
        func make() throws -> Delegation {
            try Delegation(
                issuer: alice.key, audience: bob.did, subject: alice.did, command: Command("/msg/send"), policy: policy,
                nonce: [1, 2, 3], meta: ["note": "hi"], notBefore: 10, expiration: Self.now + 60)
        }
        let delegation = try make()
        #expect(try make().bytes == delegation.bytes)
        #expect(delegation.cid.string.hasPrefix("bafyrei"))
        let parsed = try Delegation(bytes: delegation.bytes)
        #expect(parsed.issuer == alice.did && parsed.audience == bob.did && parsed.subject == alice.did)
        #expect(parsed.command.path == "/msg/send" && parsed.policy == policy && parsed.nonce == [1, 2, 3])
        #expect(parsed.meta == ["note": "hi"] && parsed.notBefore == 10 && parsed.expiration == Self.now + 60)
        #expect(parsed.tag == "ucan/dlg@1.0.0" && parsed.cid == delegation.cid)
        let powerline = try Delegation(
            issuer: alice.key, audience: bob.did, subject: nil, command: .top, expiration: nil)
        let reread = try Delegation(bytes: powerline.bytes)
        #expect(reread.subject == nil && reread.expiration == nil)
    }

    /// Signs `payload` as an envelope by hand, to build what the library itself would never write.
    static func envelope(
        _ payload: [String: IPLD], tag: String = "ucan/dlg@1.0.0", header: [UInt8] = Varsig.ed25519DAGCBOR,
        key: Ed25519.SigningKey, signature: [UInt8]? = nil
    ) -> [UInt8] {
        let signed: IPLD = .map(["h": .bytes(header), tag: .map(payload)])
        return DAGCBOR.encode(.list([.bytes(signature ?? key.signature(for: DAGCBOR.encode(signed))), signed]))
    }

    static func payload(_ issuer: Principal, _ audience: Principal) -> [String: IPLD] {
        [
            "iss": .string(issuer.did.string), "aud": .string(audience.did.string), "sub": .string(issuer.did.string),
            "cmd": "/msg", "pol": [], "nonce": .bytes([9]), "exp": .integer(now + 60),
        ]
    }

    @Test func releaseCandidateTagsAndTheDraftVarsigAreRead() throws {
        let alice = Principal()
        let bob = Principal()
        let rc = Self.envelope(Self.payload(alice, bob), tag: "ucan/dlg@1.0.0-rc.1", key: alice.key)
        #expect(try Delegation(bytes: rc).tag == "ucan/dlg@1.0.0-rc.1")
        let draft = Self.envelope(Self.payload(alice, bob), header: Varsig.ed25519DAGCBORDraft, key: alice.key)
        #expect(try Delegation(bytes: draft).issuer == alice.did)
    }

    @Test(arguments: [
        ("unknown field", "extra", UCANError.Code.invalidField),
        ("missing exp", "exp", .missingField), ("missing sub", "sub", .missingField),
        ("missing nonce", "nonce", .missingField), ("bad cmd", "cmd", .invalidField),
        ("bad policy", "pol", .invalidField), ("time too big", "nbf", .invalidField),
    ])
    func malformedDelegationsAreRefusedByField(name: String, field: String, code: UCANError.Code) {
        let alice = Principal()
        let bob = Principal()
        var payload = Self.payload(alice, bob)
        switch name {
        case "unknown field": payload["extra"] = 1
        case "bad cmd": payload["cmd"] = "no-slash"
        case "bad policy": payload["pol"] = [["nope", ".a", 1]]
        case "time too big": payload["nbf"] = .integer(1 << 60)
        default: payload[field] = nil
        }
        let error = #expect(throws: UCANError.self) {
            try Delegation(bytes: Self.envelope(payload, key: alice.key))
        }
        #expect(error?.code == code, "\(name): \(String(describing: error))")
        #expect(error?.field?.hasPrefix(field) == true, "\(name): \(String(describing: error))")
    }

    @Test func otherAlgorithmsForgedSignaturesAndInvocationsAreRefused() {
        let alice = Principal()
        let bob = Principal()
        let p256: [UInt8] = [0x34, 0x01, 0xEC, 0x01, 0x85, 0x24, 0x12, 0x71]
        let other = #expect(throws: UCANError.self) {
            try Delegation(bytes: Self.envelope(Self.payload(alice, bob), header: p256, key: alice.key))
        }
        #expect(other?.code == .unsupportedAlgorithm)
        let forged = #expect(throws: UCANError.self) {
            try Delegation(bytes: Self.envelope(Self.payload(alice, bob), key: bob.key))
        }
        #expect(forged?.code == .invalidSignature && forged?.name == "InvalidSignature")
        let wrongKind = #expect(throws: UCANError.self) {
            try Delegation(bytes: Self.envelope(Self.payload(alice, bob), tag: "ucan/inv@1.0.0", key: alice.key))
        }
        #expect(wrongKind?.code == .malformed)
        #expect(throws: UCANError.self) {
            try Delegation(bytes: Self.envelope(Self.payload(alice, bob), tag: "ucan/dlg@2.0.0", key: alice.key))
        }
    }

    /// A chain subject → a1 → … → aN and an invocation by aN, with each link's command and policy as given.
    struct Chain {
        let subject = Principal()
        let agents: [Principal]
        let delegations: [Delegation]

        init(
            length: Int, commands: [String]? = nil, policies: [Policy]? = nil, subjects: [Bool]? = nil,
            expirations: [Int64?]? = nil, notBefores: [Int64?]? = nil
        ) throws {
            agents = (0..<length).map { _ in Principal() }
            var delegations: [Delegation] = []
            for index in 0..<length {
                let issuer = index == 0 ? subject.key : agents[index - 1].key
                delegations.append(
                    try Delegation(
                        issuer: issuer, audience: agents[index].did,
                        subject: (subjects?[index] ?? true) ? subject.did : nil,
                        command: Command(commands?[index] ?? "/msg"), policy: policies?[index] ?? .empty,
                        notBefore: notBefores?[index] ?? nil,
                        expiration: expirations.map { $0[index] } ?? UCAN1Tests.now + 300))
            }
            self.delegations = delegations
        }

        func invoke(
            _ command: String = "/msg/send", args: [String: IPLD] = [:], by invoker: Principal? = nil,
            proofs: [CID]? = nil, audience: DID? = nil, expiration: Int64? = UCAN1Tests.now + 60
        ) throws -> Invocation {
            try Invocation(
                issuer: (invoker ?? agents[agents.count - 1]).key, subject: subject.did, audience: audience,
                command: Command(command), arguments: args, proofs: proofs ?? delegations.map(\.cid),
                expiration: expiration)
        }

        func validate(
            _ invocation: Invocation, policy: InvocationPolicy = InvocationPolicy(), now: Int64 = UCAN1Tests.now
        ) throws(UCANError) -> ValidatedInvocation {
            try InvocationValidator(policy: policy).validate(
                invocation.bytes, proofs: delegations.map(\.bytes).reversed(), now: now)
        }
    }

    @Test(arguments: 1...5)
    func chainsOfDepthOneToFiveValidate(depth: Int) throws {
        let chain = try Chain(length: depth)
        let invocation = try chain.invoke(args: ["to": "a@example.com"])
        let validated = try chain.validate(invocation)
        #expect(validated.delegations.map(\.cid) == chain.delegations.map(\.cid))
        #expect(validated.cid == invocation.cid && validated.cid.string.hasPrefix("bafyrei"))
        #expect(validated.expiration == Self.now + 60)
        #expect(try Invocation(bytes: invocation.bytes).arguments == ["to": "a@example.com"])
    }

    @Test func aPowerlineCarriesTheSubjectButNeverRootsAChain() throws {
        let chain = try Chain(length: 3, subjects: [true, false, true])
        #expect(throws: Never.self) { try chain.validate(try chain.invoke()) }
        let rootless = try Chain(length: 2, subjects: [false, true])
        let error = #expect(throws: UCANError.self) { try rootless.validate(try rootless.invoke()) }
        #expect(error?.name == "InvalidSubject")
    }

    @Test func eachRuleIsRefusedWithTheSpecsName() throws {
        func refusal(_ chain: Chain, _ invocation: Invocation, policy: InvocationPolicy = InvocationPolicy())
            -> UCANError?
        {
            #expect(throws: UCANError.self) { try chain.validate(invocation, policy: policy) }
        }
        let chain = try Chain(length: 3)
        // The invoker is not the last audience.
        #expect(refusal(chain, try chain.invoke(by: Principal()))?.name == "InvalidAudience")
        // A link out of order breaks principal alignment.
        let swapped = [chain.delegations[1], chain.delegations[0], chain.delegations[2]].map(\.cid)
        #expect(refusal(chain, try chain.invoke(proofs: swapped))?.name == "InvalidSubject")
        let skipped = [chain.delegations[0], chain.delegations[2]].map(\.cid)
        #expect(refusal(chain, try chain.invoke(proofs: skipped))?.name == "InvalidAudience")
        // A proof not supplied.
        let missing = try chain.invoke(
            proofs: chain.delegations.map(\.cid) + [
                Delegation(
                    issuer: Principal().key, audience: Principal().did, subject: nil, command: .top, expiration: nil
                ).cid
            ])
        #expect(refusal(chain, missing)?.name == "UnavailableProof")
        // Commands: /msg does not prove /crud/read.
        #expect(refusal(chain, try chain.invoke("/crud/read"))?.name == "InvalidClaim")
        // Another subject.
        let stranger = Principal()
        let otherSubject = try Invocation(
            issuer: chain.agents[2].key, subject: stranger.did, command: Command("/msg/send"),
            proofs: chain.delegations.map(\.cid), expiration: Self.now + 60)
        #expect(refusal(chain, otherSubject)?.name == "InvalidSubject")
        // Executors and trusted subjects.
        let executor = Principal()
        let forExecutor = try chain.invoke(audience: executor.did)
        #expect(throws: Never.self) {
            try chain.validate(forExecutor, policy: InvocationPolicy(executors: [executor.did]))
        }
        #expect(
            refusal(chain, forExecutor, policy: InvocationPolicy(executors: [stranger.did]))?.name == "InvalidAudience")
        #expect(
            refusal(chain, try chain.invoke(), policy: InvocationPolicy(trustedSubjects: [stranger.did]))?.code
                == .untrustedIssuer)
        // The invocation itself expired.
        #expect(refusal(chain, try chain.invoke(expiration: Self.now - 1))?.name == "Expired")
    }

    @Test func timeBoundsApplyToEveryDelegation() throws {
        let expired = try Chain(length: 3, expirations: [Self.now + 300, Self.now - 1, nil])
        let error = #expect(throws: UCANError.self) { try expired.validate(try expired.invoke()) }
        #expect(error?.name == "Expired" && error?.field == "prf[1]")
        let early = try Chain(length: 2, notBefores: [nil, Self.now + 10])
        #expect(#expect(throws: UCANError.self) { try early.validate(try early.invoke()) }?.name == "TooEarly")
        #expect(throws: Never.self) {
            try early.validate(try early.invoke(), policy: InvocationPolicy(leeway: 10))
        }
    }

    @Test func everyPolicyOnTheChainHoldsOnTheArguments() throws {
        let chain = try Chain(
            length: 2,
            policies: [try Policy([["like", ".to", "*@example.com"]]), try Policy([[">", ".amount", 0]])])
        #expect(throws: Never.self) {
            try chain.validate(try chain.invoke(args: ["to": "a@example.com", "amount": 5]))
        }
        let wrongDomain = #expect(throws: UCANError.self) {
            try chain.validate(try chain.invoke(args: ["to": "a@evil.example", "amount": 5]))
        }
        #expect(wrongDomain?.name == "MatchError" && wrongDomain?.field == "prf[0].pol")
        let zero = #expect(throws: UCANError.self) {
            try chain.validate(try chain.invoke(args: ["to": "a@example.com", "amount": 0]))
        }
        #expect(zero?.name == "MatchError" && zero?.field == "prf[1].pol")
    }

    @Test func theSubjectMayInvokeWithoutProofsAndNobodyElseMay() throws {
        let alice = Principal()
        let own = try Invocation(
            issuer: alice.key, subject: alice.did, command: Command("/msg/send"), proofs: [], expiration: Self.now + 5)
        #expect(throws: Never.self) { try InvocationValidator().validate(own.bytes, proofs: [], now: Self.now) }
        let other = try Invocation(
            issuer: Principal().key, subject: alice.did, command: Command("/msg/send"), proofs: [],
            expiration: Self.now + 5)
        #expect(throws: UCANError.self) { try InvocationValidator().validate(other.bytes, proofs: [], now: Self.now) }
    }

    @Test func theReplayCacheRefusesASecondUseUntilTheInvocationExpires() throws {
        let cache = ReplayCache(capacity: 2)
        let chain = try Chain(length: 1)
        let first = try chain.validate(try chain.invoke(expiration: Self.now + 10))
        #expect(cache.record(first, now: Self.now) == .fresh)
        #expect(cache.record(first, now: Self.now + 5) == .replayed)
        let second = try chain.validate(try chain.invoke(expiration: Self.now + 20))
        #expect(cache.record(second, now: Self.now) == .fresh)
        let third = try chain.validate(try chain.invoke(expiration: Self.now + 30))
        #expect(cache.record(third, now: Self.now) == .full, "a full cache refuses rather than forgets")
        // Once the first has expired its slot is free, and it is refused anyway by validation.
        #expect(cache.record(third, now: Self.now + 11) == .fresh)
        #expect(cache.count == 2)
        #expect(cache.record(try chain.invoke(expiration: nil).cid, expiresAt: nil, now: Self.now) == .unbounded)
    }
}
