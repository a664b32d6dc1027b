import Testing
import UCAN

/// Inputs that parse as the right shape yet would weaken what a token means: keys no signer holds, and caveat
/// lists that cover everything while looking narrow.
@Suite struct WeakInputTests {
    /// Encodings of points of small order (1, 2, 4 and 8), canonical or not, as libsodium's blocklist has them.
    static let smallOrderPoints = [
        "0100000000000000000000000000000000000000000000000000000000000000",  // the identity, order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  // order 4, other sign
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p: the order-4 point, unreduced
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // p + 1: the identity, unreduced
    ]

    /// The base point plus a point of order 8: on the curve and of large order, but not in the prime-order
    /// subgroup, so no seed produces it.
    static let mixedOrderPoint = "98519eadf35b995233b51b5cd23e9cc5a28b639b5a4af0ec903cb960d81b7819"

    static func did(_ pointHex: String) throws -> String {
        DID(publicKey: try Ed25519.PublicKey(bytes: hex(pointHex))).string
    }

    @Test(arguments: smallOrderPoints + [mixedOrderPoint])
    func aDIDOfAWeakPointIsRefused(point: String) throws {
        let text = try Self.did(point)
        let error = try #require(throws: UCANError.self) { try DID(text, field: "aud") }
        #expect(error.code == .invalidField)
        #expect(error.field == "aud")
        #expect(error.message.contains("full-order"))
    }

    @Test func theIdentityPointIsTheDIDTheAttackUsed() throws {
        #expect(try Self.did(Self.smallOrderPoints[0]) == "did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj")
        #expect(throws: UCANError.self) { try DID("did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj") }
    }

    @Test func realKeysAndTheBasePointStillParse() throws {
        for key in [Keys.alice, Keys.bob, Ed25519.SigningKey()] {
            #expect(try DID(key.did.string) == key.did)
        }
        #expect(try DID(try Self.did("58" + String(repeating: "66", count: 31))).string.hasPrefix("did:key:z6Mk"))
    }

    @Test func aTokenAddressedToAWeakPointIsRefusedNamingAud() throws {
        let payload = TokenDecodingTests.payload("aud", "\"\(try Self.did(Self.smallOrderPoints[0]))\"")
        let error = try #require(throws: UCANError.self) { try UCAN(parsing: craft(payload: payload)) }
        #expect(error.code == .invalidField)
        #expect(error.field == "aud")
    }

    /// A caveat that is the second alternative, and the path its empty array is refused at.
    static let emptyArrays: [(caveat: String, path: String)] = [
        (#"{"to":[]}"#, #"cap["mailto:*"]["email/send"][1].to"#),
        (#"{"o":{"x":[1,[]]}}"#, #"cap["mailto:*"]["email/send"][1].o.x[1]"#),
        (#"{"a":1,"b c":[]}"#, #"cap["mailto:*"]["email/send"][1]["b c"]"#),
        (#"{"max":5,"to":[],"cc":[]}"#, #"cap["mailto:*"]["email/send"][1].cc"#),
    ]

    @Test(arguments: emptyArrays)
    func anEmptyArrayInACaveatIsRefusedWithItsPath(caveat: String, path: String) throws {
        let json = try JSONParser.parse(Array((#"{"mailto:*":{"email/send":[{},"# + caveat + "]}}").utf8))
        let error = try #require(throws: UCANError.self) { try Capabilities(json: json) }
        #expect(error.code == .invalidField)
        #expect(error.field == path)
    }

    @Test func theAttackEmptyListIsNotANarrowerCaveat() throws {
        let empty = Capability(resource: "mailto:*", ability: "email/send", caveats: [["to": []]])
        let error = try #require(throws: UCANError.self) { try Capabilities([empty]) }
        #expect(error.field == #"cap["mailto:*"]["email/send"][0].to"#)
        let named = try #require(throws: UCANError.self) {
            try Capabilities(json: .object(["mailto:*": ["email/send": [["to": []]]]]), field: "capabilities")
        }
        #expect(named.field == #"capabilities["mailto:*"]["email/send"][0].to"#)
        // A token carrying one is refused when parsed, so no verifier ever sees it as an attenuation.
        let payload = TokenDecodingTests.payload("cap", #"{"mailto:*":{"email/send":[{"to":[]}]}}"#)
        let parsed = try #require(throws: UCANError.self) { try UCAN(parsing: craft(payload: payload)) }
        #expect(parsed.field == #"cap["mailto:*"]["email/send"][0].to"#)
        // Lists with members, and empty objects (which add no field to match), still stand.
        _ = try Capabilities(json: .object(["mailto:*": ["email/send": [["to": ["ops@example.com"], "o": [:]]]]]))
    }
}
