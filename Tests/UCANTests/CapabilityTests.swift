import Testing
import UCAN

/// Attenuation: what a parent capability covers, and what it must refuse.
@Suite struct CapabilityTests {
    struct Case: Sendable, CustomStringConvertible {
        let parent: Capability
        let child: Capability
        let covered: Bool
        var description: String { "\(parent) \(parent.caveats) ⊇ \(child) \(child.caveats): \(covered)" }
    }

    static let api = "https://api.example.com/mail"

    static let cases: [Case] = [
        Case(
            parent: .init(resource: api, ability: "email/send"), child: .init(resource: api, ability: "email/send"),
            covered: true),
        Case(
            parent: .init(resource: api, ability: "EMAIL/Send"), child: .init(resource: api, ability: "email/send"),
            covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send"), child: .init(resource: api, ability: "email/read"),
            covered: false),
        Case(
            parent: .init(resource: api, ability: "email/*"), child: .init(resource: api, ability: "email/send"),
            covered: true),
        Case(
            parent: .init(resource: api, ability: "email/*"), child: .init(resource: api, ability: "emails/send"),
            covered: false),
        Case(
            parent: .init(resource: api, ability: "*"), child: .init(resource: api, ability: "docs/read"), covered: true
        ),
        Case(
            parent: .init(resource: api, ability: "email/send"), child: .init(resource: api, ability: "*"),
            covered: false),
        Case(
            parent: .init(resource: "*", ability: "email/send"), child: .init(resource: api, ability: "email/send"),
            covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send"), child: .init(resource: "*", ability: "email/send"),
            covered: false),
        Case(
            parent: .init(resource: "https://api.example.com/*", ability: "*"),
            child: .init(resource: api, ability: "email/send"), covered: true),
        Case(
            parent: .init(resource: "https://api.example.com/*", ability: "*"),
            child: .init(resource: "https://api.example.org/x", ability: "a/b"), covered: false),
        Case(
            parent: .init(resource: api, ability: "email/send"),
            child: .init(resource: api + "/x", ability: "email/send"), covered: false),
        // Caveats: {} is the widest; a child must keep every parent field, equal or narrower.
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [[:]]),
            child: .init(resource: api, ability: "email/send", caveats: [["max": 5]]), covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["max": 5]]),
            child: .init(resource: api, ability: "email/send", caveats: [[:]]), covered: false),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["max": 5]]),
            child: .init(resource: api, ability: "email/send", caveats: [["max": 6]]), covered: false),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["max": 5]]),
            child: .init(resource: api, ability: "email/send", caveats: [["max": 5, "to": "a"]]), covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["to": ["a", "b"]]]),
            child: .init(resource: api, ability: "email/send", caveats: [["to": ["b"]]]), covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["to": ["a"]]]),
            child: .init(resource: api, ability: "email/send", caveats: [["to": ["a", "b"]]]), covered: false),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["o": ["x": 1]]]),
            child: .init(resource: api, ability: "email/send", caveats: [["o": ["x": 1, "y": 2]]]), covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["o": ["x": 1]]]),
            child: .init(resource: api, ability: "email/send", caveats: [["o": ["y": 2]]]), covered: false),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["max": 5]]),
            child: .init(resource: api, ability: "email/send", caveats: [["max": "5"]]), covered: false),
        // Alternatives: every child alternative must fit some parent alternative.
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["to": "a"], ["to": "b"]]),
            child: .init(resource: api, ability: "email/send", caveats: [["to": "b"]]), covered: true),
        Case(
            parent: .init(resource: api, ability: "email/send", caveats: [["to": "a"]]),
            child: .init(resource: api, ability: "email/send", caveats: [["to": "a"], ["to": "c"]]), covered: false),
    ]

    @Test(arguments: cases)
    func attenuation(_ item: Case) {
        #expect(item.parent.covers(item.child) == item.covered)
    }

    @Test func widenedCapabilitiesFailTheChainNamingTheCapability() throws {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: caps([Self.api: ["email/send": [["max": 5]]]]))
        let wider = try issue(
            Keys.bob, to: Keys.carol, capabilities: caps([Self.api: ["email/send": [[:]]]]), proofs: [root])
        let error = #expect(throws: UCANError.self) {
            try Validator().validate(wider, proofs: ProofStore([root]), now: now)
        }
        #expect(error?.code == .capabilityNotDelegated)
        #expect(error?.message == "email/send on \(Self.api) is not delegated by any proof")
        let other = try issue(
            Keys.bob, to: Keys.carol, capabilities: caps(["mailto:x@y.z": ["msg/send": [[:]]]]), proofs: [root])
        #expect(
            (#expect(throws: UCANError.self) { try Validator().validate(other, proofs: ProofStore([root]), now: now) })?
                .code == .capabilityNotDelegated)
    }

    @Test func capabilitiesFromTwoProofsCombine() throws {
        let mail = try issue(Keys.alice, to: Keys.carol, capabilities: caps([Self.api: ["email/send": [[:]]]]))
        let docs = try issue(
            Keys.bob, to: Keys.carol, capabilities: caps(["https://docs.example.com": ["docs/read": [[:]]]]))
        let both = try issue(
            Keys.carol, to: Keys.dave,
            capabilities: caps([Self.api: ["email/send": [[:]]], "https://docs.example.com": ["docs/read": [[:]]]]),
            proofs: [mail, docs])
        let chain = try Validator().validate(both, proofs: ProofStore([mail, docs]), now: now)
        #expect(chain.rootIssuers == [Keys.alice.did, Keys.bob.did])
    }

    @Test func theCapMapRoundTrips() throws {
        let json: JSONValue = .object([
            Self.api: .object(["email/send": .array([.object(["max": .integer(5)]), .object([:])])])
        ])
        let parsed = try Capabilities(json: json)
        #expect(parsed.json == json)
        #expect(parsed.all.count == 1)
        #expect(Capabilities.none.json == .object([:]))
    }
}

extension CapabilityTests {
    @Test func theStreamedCapMapEqualsTheCanonicalSerialization() throws {
        let json: JSONValue = [
            "https://b.example.com": ["z/y": [[:]], "a/b": [["x": [1, 2]], ["é": "ü"]]],
            "https://a.example.com/*": ["*": [[:]]],
            "mailto:z@example.com": ["msg/send": [["to": "q"]]],
        ]
        let capabilities = try Capabilities(json: json)
        let token = try UCAN(
            signing: Payload(
                issuer: Keys.alice.did, audience: Keys.bob.did, expiration: nil, capabilities: capabilities),
            with: Keys.alice)
        let payload = try JSONParser.parse(Base64URL.decode(token.encoded.split(separator: ".")[1])!)
        #expect(payload["cap"] == json)
        let text = String(decoding: Base64URL.decode(token.encoded.split(separator: ".")[1])!, as: UTF8.self)
        #expect(text.contains(String(decoding: json.serialized(), as: UTF8.self)))
    }

    /// Found by the fuzzer: `é` and `e` + U+0301 are one ability to Swift (and to a strict parser reading
    /// the token back) though their bytes sort apart, with `x/f` between them.
    @Test func anAbilityNamedTwiceInDifferentUnicodeFormsIsRefused() throws {
        let resource = "mailto:a@example.com"
        let twice = [
            Capability(resource: resource, ability: "x/\u{00C9}"), Capability(resource: resource, ability: "x/f"),
            Capability(resource: resource, ability: "x/e\u{0301}"),
        ]
        #expect(throws: UCANError.self) { try Capabilities(twice) }
        let once = try Capabilities(Array(twice.prefix(2)))
        #expect(once.all.count == 2)
    }
}
