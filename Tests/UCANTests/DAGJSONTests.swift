import Testing
import UCAN

private let helloCID = "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"

private func text(_ value: IPLD) -> String { String(decoding: DAGJSON.encode(value), as: UTF8.self) }

private func decode(_ text: String) throws(UCANError) -> IPLD { try DAGJSON.decode(Array(text.utf8)) }

/// The error `decode` throws for `text`, or nil when it succeeds.
private func decodeError(_ text: String) -> UCANError? {
    do {
        _ = try decode(text)
        return nil
    } catch {
        return error
    }
}

@Suite("DAG-JSON")
struct DAGJSONTests {
    static let vectors: [(IPLD, String)] = [
        (nil, "null"), (true, "true"), (false, "false"), (0, "0"), (-1, "-1"), (1_000_000, "1000000"),
        (.integer(.max), "9223372036854775807"), (.integer(.min), "-9223372036854775808"),
        (1.0, "1.0"), (1.5, "1.5"), (-2.0, "-2.0"), (0.0, "0.0"), (100.0, "100.0"), (0.1, "0.1"),
        ("", #""""#), ("a", #""a""#), ("a\"b\\c\n\t\u{1}", #""a\"b\\c\n\t\u0001""#),
        ("h\u{E9}/\u{1F30D}", "\"h\u{E9}/\u{1F30D}\""),
        (.bytes([]), #"{"/":{"bytes":""}}"#), (.bytes([1, 2, 3]), #"{"/":{"bytes":"AQID"}}"#),
        (.bytes(Array("foobar".utf8)), #"{"/":{"bytes":"Zm9vYmFy"}}"#),
        (.bytes([0xFB, 0xFF]), #"{"/":{"bytes":"+/8"}}"#),
        (.bytes(Array("fo".utf8)), #"{"/":{"bytes":"Zm8"}}"#),
        (.link(try! CID(helloCID)), #"{"/":"\#(helloCID)"}"#),
        ([], "[]"), ([1, [2, [3]], "x"], #"[1,[2,[3]],"x"]"#), ([:], "{}"),
        // UTF-8 byte order, not DAG-CBOR's length-first order.
        (["b": 1, "aa": 2, "a": 3], #"{"a":3,"aa":2,"b":1}"#),
        (["\u{E9}": 1, "z": 2, "Z": 3, "": 4], "{\"\":4,\"Z\":3,\"z\":2,\"\u{E9}\":1}"),
        (["/": true, "bar": "baz"], #"{"/":true,"bar":"baz"}"#),
        (
            ["cmd": "/msg/send", "args": ["to": ["a@example.com"], "n": 2], "nonce": .bytes([0, 1, 2])],
            #"{"args":{"n":2,"to":["a@example.com"]},"cmd":"/msg/send","nonce":{"/":{"bytes":"AAEC"}}}"#
        ),
    ]

    @Test("Encodes canonical text and decodes it back", arguments: vectors)
    func knownVectors(value: IPLD, json: String) throws {
        #expect(text(value) == json)
        #expect(try decode(json) == value)
    }

    /// Floats keep Swift's shortest round-trip digits, laid out with a point and without an exponent.
    static let floats: [(Double, String)] = [
        (1e16, "10000000000000000.0"), (1e-5, "0.00001"), (-1.25e-7, "-0.000000125"),
        (1.2345e20, "123450000000000000000.0"), (123.456, "123.456"), (-0.0, "-0.0"),
        (9_007_199_254_740_992, "9007199254740992.0"), (0.000123, "0.000123"), (1e21, "1000000000000000000000.0"),
        (.leastNonzeroMagnitude, "0." + String(repeating: "0", count: 323) + "5"),
        (.greatestFiniteMagnitude, "17976931348623157" + String(repeating: "0", count: 292) + ".0"),
    ]

    @Test(arguments: floats)
    func floatsAreWrittenInPlainDecimal(number: Double, json: String) throws {
        #expect(text(.float(number)) == json)
        guard case .float(let back) = try decode(json) else {
            Issue.record("\(json) did not read back as a float")
            return
        }
        #expect(back.bitPattern == number.bitPattern)
    }

    @Test func floatsRoundTripBitForBit() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            // SplitMix64, so the run is the same every time.
            state &+= 0x9E37_79B9_7F4A_7C15
            var bits = state
            bits = (bits ^ (bits >> 30)) &* 0xBF58_476D_1CE4_E5B9
            bits = (bits ^ (bits >> 27)) &* 0x94D0_49BB_1331_11EB
            bits ^= bits >> 31
            let number = Double(bitPattern: bits)
            guard number.isFinite else { continue }
            let json = text(.float(number))
            #expect(!json.contains("e") && json.contains("."), "\(json)")
            guard case .float(let back) = try decode(json) else {
                Issue.record("\(json) did not read back as a float")
                continue
            }
            #expect(back.bitPattern == number.bitPattern, "\(json)")
        }
    }

    @Test(arguments: [
        ("1e5", 100_000.0), ("1E+2", 100.0), ("2.5e-1", 0.25), ("9223372036854775808.0", 9_223_372_036_854_775_808.0),
        ("1e19", 1e19), ("-0.0", -0.0),
    ])
    func numbersWithAPointOrExponentAreFloats(json: String, number: Double) throws {
        #expect(try decode(json) == .float(number))
    }

    @Test func acceptsWhitespaceAndAnyKeyOrder() throws {
        let value = try decode(" { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { \"/\" : { \"bytes\" : \"AQID\" } } } ")
        #expect(value == ["a": .bytes([1, 2, 3]), "b": [1, 2]])
    }

    /// Maps with a `"/"` key the spec leaves as plain maps.
    static let plainSlashMaps: [(String, IPLD)] = [
        (#"{"/":true,"bar":"baz"}"#, ["/": true, "bar": "baz"]),
        (#"{"/":{"bytes":true},"bar":"baz"}"#, ["/": ["bytes": true], "bar": "baz"]),
        (#"{"/":{"a":1}}"#, ["/": ["a": 1]]),
        (#"{"/":5}"#, ["/": 5]),
        (#"{"/":null}"#, ["/": nil]),
        (#"{"/":["bafy"]}"#, ["/": ["bafy"]]),
    ]

    @Test(arguments: plainSlashMaps)
    func slashKeysOutsideTheReservedFormsArePlainMaps(json: String, value: IPLD) throws {
        #expect(try decode(json) == value)
    }

    static let refusalVectors: [(String, String, String)] = [
        // The reserved namespace.
        ("link beside other keys", #"{"/":"foo","bar":"baz"}"#, #"a map whose "/" key holds a string"#),
        (
            "link after a key written first", #"{"0bar":"baz","/":"\#(helloCID)"}"#,
            #"a map whose "/" key holds a string"#
        ),
        ("bytes map with other keys", #"{"/":{"bytes":"foo","bar":"baz"}}"#, #"a "/" map whose "bytes" key"#),
        ("bytes after a key written first", #"{"/":{"abar":"baz","bytes":"foo"}}"#, #"a "/" map whose "bytes" key"#),
        ("bytes beside other keys", #"{"/":{"bytes":"foo"},"bar":"baz"}"#, #"a map whose "/" key holds bytes"#),
        ("not a CID", #"{"/":"foo"}"#, "link is not a CIDv1"),
        ("base58btc CID", #"{"/":"zdpuAyvkgEDQm9TenwGkd5eNaosSxjgEYd8QatfPetgB1CdEZ"}"#, "link is not a CIDv1"),
        ("CIDv0", #"{"/":"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"}"#, "link is not a CIDv1"),
        ("upper-case base32 CID", #"{"/":"B\#(helloCID.dropFirst().uppercased())"}"#, "link is not a CIDv1"),
        ("truncated CID", #"{"/":"\#(helloCID.dropLast(4))"}"#, "link is not a CIDv1"),
        ("padded base64", #"{"/":{"bytes":"Zg=="}}"#, "bytes must be base64 without padding"),
        ("base64url", #"{"/":{"bytes":"-_8"}}"#, "bytes are not valid base64"),
        ("non-zero trailing bits", #"{"/":{"bytes":"Zh"}}"#, "bytes are not valid base64"),
        ("impossible base64 length", #"{"/":{"bytes":"Zm9vY"}}"#, "bytes are not valid base64"),
        ("multibase-prefixed base64", #"{"/":{"bytes":"mAQID"}}"#, "bytes are not valid base64"),
        // JSON itself.
        ("duplicate key", #"{"a":1,"a":2}"#, "duplicate key"),
        ("trailing comma", #"[1,]"#, "unexpected character"),
        ("trailing data", #"{} {}"#, "trailing data"),
        ("empty input", "", "unexpected end"),
        ("NaN", "NaN", "unexpected character"),
        ("Infinity", "[Infinity]", "unexpected character"),
        ("float out of range", "1e400", "number out of range"),
        ("leading zero", "01", "leading zero"),
        ("lone surrogate", #""\ud800""#, "surrogate"),
        ("integer over Int64", "9223372036854775808", "integer outside Int64"),
        ("integer under Int64", "-9223372036854775809", "integer outside Int64"),
        ("huge integer inside", #"{"a":[1, 99999999999999999999999]}"#, "integer outside Int64"),
    ]

    @Test("Refuses malformed DAG-JSON, naming what is wrong", arguments: refusalVectors)
    func refusals(rule: String, json: String, message: String) throws {
        let error = try #require(decodeError(json), "\(rule) was accepted")
        #expect(error.code == .malformed, "\(rule)")
        #expect(error.message.hasPrefix("dag-json at "), "\(rule): \(error.message)")
        #expect(error.message.contains(message), "\(rule): \(error.message)")
    }

    @Test func errorsNameWhereTheyAre() throws {
        #expect(decodeError(#"{"args":{"to":[1,{"/":"x"}]}}"#)?.message.hasPrefix("dag-json at .args.to[1]: ") == true)
        #expect(decodeError(#"{"a b":{"/":"x"}}"#)?.message.hasPrefix("dag-json at […]: ") == true)
        #expect(decodeError(#"{"/":"x"}"#)?.message.hasPrefix("dag-json at the top level: ") == true)
        #expect(decodeError(#"{"a":[1, 99999999999999999999999]}"#)?.message.hasPrefix("dag-json at byte 9: ") == true)
        #expect(decodeError("[1,]")?.message == "dag-json at byte 3: unexpected character")
    }

    @Test func refusesInvalidUTF8() throws {
        #expect(throws: UCANError.self) { try DAGJSON.decode([0x22, 0xC3, 0x28, 0x22]) }
        do {
            _ = try DAGJSON.decode([0x22, 0xC3, 0x28, 0x22])
        } catch {
            #expect(error.message == "dag-json at byte 1: invalid UTF-8")
        }
    }

    @Test func refusesDeepNestingWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let error = try #require(decodeError(deep))
        #expect(error.code == .tooLarge)
        let atLimit = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(decodeError(atLimit) == nil)
    }

    @Test func convertsToAndFromDAGCBOR() throws {
        let json =
            #"{"args":{"amount":99,"ratio":0.25,"to":["a@example.com"]},"cmd":"/msg/send","#
            + #""nonce":{"/":{"bytes":"AAECAw"}},"prf":[{"/":"\#(helloCID)"}],"sub":null}"#
        let value = try decode(json)
        let cbor = DAGCBOR.encode(value)
        #expect(try DAGCBOR.decode(cbor) == value)
        #expect(text(try DAGCBOR.decode(cbor)) == json)
    }

    @Test func prettyPrintsForPeople() {
        let value: IPLD = ["b": [1, .bytes([1, 2, 3])], "a": .link(try! CID(helloCID)), "c": [:], "d": []]
        let expected = """
            {
              "a": {"/": "\(helloCID)"},
              "b": [
                1,
                {"/": {"bytes": "AQID"}}
              ],
              "c": {},
              "d": []
            }
            """
        #expect(String(decoding: DAGJSON.encodePretty(value), as: UTF8.self) == expected)
    }

    @Test(
        arguments: [
            ("", []), ("Zg", [0x66]), ("Zm8", [0x66, 0x6F]), ("Zm9v", [0x66, 0x6F, 0x6F]), ("+/8", [0xFB, 0xFF]),
        ] as [(String, [UInt8])])
    func base64IsStandardAndUnpadded(encoded: String, bytes: [UInt8]) {
        #expect(DAGJSON.Base64.encode(bytes) == encoded)
        #expect(DAGJSON.Base64.decode(encoded) == bytes)
        let padded = DAGJSON.Base64.encode(bytes, padded: true)
        #expect(padded.utf8.count % 4 == 0)
        #expect(DAGJSON.Base64.decode(padded, allowPadding: true) == bytes)
    }

    @Test(arguments: ["Zg=", "Z===", "====", "Zm9v=", "Zg==Zg==", "Z", "Zh=="])
    func base64RefusesWrongPadding(encoded: String) {
        #expect(DAGJSON.Base64.decode(encoded, allowPadding: true) == nil)
    }
}
