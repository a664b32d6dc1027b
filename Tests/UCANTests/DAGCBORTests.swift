import Testing
import UCAN

/// The CID of the DAG-CBOR block "hello" under sha2-256, as the Python `multiformats` package writes it.
private let helloCID = "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"

private func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

/// The error `decode` throws for `bytes`, or nil when it succeeds.
private func decodeError(_ bytes: [UInt8], limits: DAGCBOR.Limits = .default) -> UCANError? {
    do {
        _ = try DAGCBOR.decode(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

@Suite("DAG-CBOR")
struct DAGCBORTests {
    /// Values and their canonical bytes: RFC 8949 Appendix A where it applies (and DAG-CBOR agrees), the brief's
    /// vectors, and those cross-checked offline with the Python `dag-cbor` 0.3.3 and `libipld` 3.5.0 encoders.
    static let vectors: [(IPLD, String)] = [
        (0, "00"), (1, "01"), (10, "0a"), (23, "17"), (24, "1818"), (25, "1819"), (100, "1864"),
        (255, "18ff"), (256, "190100"), (1000, "1903e8"), (65535, "19ffff"), (65536, "1a00010000"),
        (1_000_000, "1a000f4240"), (4_294_967_295, "1affffffff"), (4_294_967_296, "1b0000000100000000"),
        (1_000_000_000_000, "1b000000e8d4a51000"), (.integer(.max), "1b7fffffffffffffff"),
        (-1, "20"), (-10, "29"), (-24, "37"), (-25, "3818"), (-100, "3863"), (-1000, "3903e7"),
        (-4_294_967_297, "3b0000000100000000"), (.integer(.min), "3b7fffffffffffffff"),
        (false, "f4"), (true, "f5"), (nil, "f6"),
        (1.1, "fb3ff199999999999a"), (1.0, "fb3ff0000000000000"), (0.0, "fb0000000000000000"),
        (-0.0, "fb8000000000000000"), (1.0e300, "fb7e37e43c8800759c"), (-4.1, "fbc010666666666666"),
        ("", "60"), ("a", "6161"), ("IETF", "6449455446"), ("\"\\", "62225c"), ("\u{00FC}", "62c3bc"),
        ("\u{6C34}", "63e6b0b4"), ("h\u{E9}llo \u{1F30D}", "6b68c3a96c6c6f20f09f8c8d"),
        (.bytes([]), "40"), (.bytes([1, 2, 3, 4]), "4401020304"),
        ([], "80"), ([1, 2, 3], "83010203"), ([1, [2, 3], [4, 5]], "8301820203820405"),
        (.list((0..<24).map { IPLD.integer($0) }), "9818000102030405060708090a0b0c0d0e0f1011121314151617"),
        ([:], "a0"), (["a": 1, "b": [2, 3]], "a26161016162820203"),
        (["b": 1, "aa": 2, "a": 3], "a361610361620162616102"),
        (["\u{E9}": 1, "z": 2, "aa": 3, "zz": 4, "\u{FF}": 5], "a5617a0262616103627a7a0462c3a90162c3bf05"),
        (
            [
                "iss": "did:key:z6Mk", "aud": "did:key:z6Mk", "sub": nil, "cmd": "/crypto/sign",
                "pol": [["==", ".to", "a@b.c"]], "nonce": .bytes(Array(0..<12)), "exp": nil,
                "meta": ["x": true, "y": false],
            ],
            "a8636175646c6469643a6b65793a7a364d6b63636d646c2f63727970746f2f7369676e63657870f6636973736c6469643a6b"
                + "65793a7a364d6b63706f6c8183623d3d632e746f656140622e6363737562f6646d657461a26178f56179f4656e6f6e63"
                + "654c000102030405060708090a0b"
        ),
        (
            ["link": .link(try! CID(helloCID))],
            "a1646c696e6bd82a582500017112202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        ),
    ]

    @Test("Encodes canonical bytes and decodes them back", arguments: vectors)
    func knownVectors(value: IPLD, hex expected: String) throws {
        #expect(hexString(DAGCBOR.encode(value)) == expected)
        let decoded = try DAGCBOR.decode(hex(expected))
        #expect(decoded == value)
        #expect(hexString(DAGCBOR.encode(decoded)) == expected)
    }

    @Test func negativeZeroKeepsItsSign() throws {
        guard case .float(let zero) = try DAGCBOR.decode(hex("fb8000000000000000")) else {
            Issue.record("not a float")
            return
        }
        #expect(zero.sign == .minus)
    }

    @Test func lengthsUseTheShortestHead() throws {
        for (count, head) in [(23, "57"), (24, "5818"), (255, "58ff"), (256, "590100"), (65536, "5a00010000")] {
            let bytes = [UInt8](repeating: 7, count: count)
            let encoded = DAGCBOR.encode(.bytes(bytes))
            #expect(hexString(Array(encoded.prefix(head.count / 2))) == head)
            #expect(try DAGCBOR.decode(encoded, limits: .init(maxBytes: 1 << 20)) == .bytes(bytes))
        }
        let text = String(repeating: "x", count: 300)
        #expect(hexString(Array(DAGCBOR.encode(.string(text)).prefix(3))) == "79012c")
    }

    @Test func mapKeysSortByLengthThenBytes() {
        let keys = ["b", "aa", "a", "", "ba", "ab", "\u{E9}", "zzz", "~"]
        let map = IPLD.map(Dictionary(uniqueKeysWithValues: keys.map { ($0, IPLD.null) }))
        let encoded = DAGCBOR.encode(map)
        // Empty, then one byte (a, b, ~), then two bytes (aa, ab, ba, é as c3 a9), then three.
        let expected = ["", "a", "b", "~", "aa", "ab", "ba", "\u{E9}", "zzz"]
        var wanted: [UInt8] = [0xA9]
        for key in expected { wanted += [0x60 | UInt8(key.utf8.count)] + Array(key.utf8) + [0xF6] }
        #expect(encoded == wanted)
    }

    @Test func encodeIntoAppendsAfterExistingBytes() {
        var output: [UInt8] = [0x82, 0x01]
        DAGCBOR.encode(["a": 1], into: &output)
        #expect(output == [0x82, 0x01, 0xA1, 0x61, 0x61, 0x01])
    }

    @Test func nonFiniteFloatsAreWrittenAsNull() {
        #expect(DAGCBOR.encode(.float(.nan)) == [0xF6])
        #expect(DAGCBOR.encode(.float(.infinity)) == [0xF6])
    }

    @Test func roundTripsNestedValues() throws {
        let value: IPLD = [
            "args": ["to": ["alice@example.com", "bob@example.com"], "amount": 99, "ratio": 0.25],
            "prf": [.link(try CID(helloCID)), .link(CID(hashing: [1, 2, 3], codec: .raw))],
            "raw": .bytes(Array(0...255)), "deep": [[[[["x"]]]]], "neg": -9_007_199_254_740_993,
        ]
        let encoded = DAGCBOR.encode(value)
        #expect(try DAGCBOR.decode(encoded) == value)
        #expect(DAGCBOR.encode(try DAGCBOR.decode(encoded)) == encoded)
    }

    /// One input per decoding rule, and the message it must be refused with. The Python `dag-cbor` 0.3.3 decoder
    /// refuses every one of them too, except the integers outside Int64 and the canonically equivalent keys, which
    /// DAG-CBOR allows and this decoder refuses by choice.
    static let refusalVectors: [(String, String, String)] = [
        ("non-shortest integer", "1817", "at byte 0: integer not in its shortest form"),
        ("non-shortest 16-bit integer", "1900ff", "at byte 0: integer not in its shortest form"),
        ("non-shortest 32-bit integer", "1a0000ffff", "at byte 0: integer not in its shortest form"),
        ("non-shortest 64-bit integer", "1b00000000ffffffff", "at byte 0: integer not in its shortest form"),
        ("non-shortest negative integer", "3800", "at byte 0: integer not in its shortest form"),
        ("non-shortest length", "780161", "at byte 0: length not in its shortest form"),
        ("non-shortest list length", "990001" + "00", "at byte 0: length not in its shortest form"),
        ("non-shortest tag", "d9002a", "at byte 0: tag number not in its shortest form"),
        ("non-shortest key length", "a1780161" + "00", "at byte 1: length not in its shortest form"),
        ("unsorted keys", "a2616201616101", "at byte 4: map keys out of order"),
        ("longer key first", "a262616101616201", "at byte 5: map keys out of order"),
        ("duplicate keys", "a2616101616102", "at byte 4: duplicate map key"),
        ("integer key", "a10101", "at byte 1: map key is not a text string"),
        ("byte-string key", "a1416101", "at byte 1: map key is not a text string"),
        ("indefinite byte string", "5f41614162ff", "at byte 0: indefinite-length byte string"),
        ("indefinite text string", "7f6161ff", "at byte 0: indefinite-length text string"),
        ("indefinite list", "9f01ff", "at byte 0: indefinite-length list"),
        ("indefinite map", "bf616101ff", "at byte 0: indefinite-length map"),
        ("break code", "ff", "at byte 0: unexpected break code"),
        ("reserved additional information", "1c", "at byte 0: reserved additional information 28"),
        ("indefinite integer", "1f", "at byte 0: reserved additional information 31"),
        ("date tag", "c074323031332d30332d32315432303a30343a30305a", "at byte 0: tag 0 is not supported"),
        ("bignum tag", "c249010000000000000000", "at byte 0: tag 2 is not supported"),
        ("tag 42 over text", "d82a6161", "at byte 2: tag 42 does not wrap a byte string"),
        (
            "CID without multibase prefix",
            "d82a5824017112202cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
            "at byte 2: CID lacks its 0x00 multibase prefix"
        ),
        ("empty tag 42", "d82a40", "at byte 2: CID lacks its 0x00 multibase prefix"),
        ("invalid CID", "d82a4400017112", "at byte 2: tag 42 does not hold a CIDv1"),
        ("undefined", "f7", "at byte 0: undefined is not supported"),
        ("simple value 16", "f0", "at byte 0: simple value 16 is not supported"),
        ("simple value 255", "f8ff", "at byte 0: simple value 255 is not supported"),
        ("half float", "f93c00", "at byte 0: half-precision float"),
        ("single float", "fa3fc00000", "at byte 0: single-precision float"),
        ("half infinity", "f97c00", "at byte 0: half-precision float"),
        ("NaN", "fb7ff8000000000000", "at byte 0: NaN is not supported"),
        ("signalling NaN", "fb7ff0000000000001", "at byte 0: NaN is not supported"),
        ("infinity", "fb7ff0000000000000", "at byte 0: infinity is not supported"),
        ("negative infinity", "fbfff0000000000000", "at byte 0: infinity is not supported"),
        ("invalid UTF-8", "62c328", "at byte 0: invalid UTF-8 in text string"),
        ("encoded surrogate", "63eda080", "at byte 0: invalid UTF-8 in text string"),
        ("overlong UTF-8", "62c0af", "at byte 0: invalid UTF-8 in text string"),
        ("invalid UTF-8 key", "a162c32801", "at byte 1: invalid UTF-8 in map key"),
        ("integer over Int64", "1b8000000000000000", "at byte 0: integer outside Int64"),
        ("integer under Int64", "3b8000000000000000", "at byte 0: integer outside Int64"),
        ("trailing bytes", "0000", "at byte 1: trailing bytes after the value"),
        ("two top-level values", "a0a0", "at byte 1: trailing bytes after the value"),
        ("empty input", "", "at byte 0: unexpected end of input"),
        ("truncated argument", "19ff", "at byte 2: unexpected end of input"),
        ("truncated float", "fb3ff19999", "at byte 5: unexpected end of input"),
        ("truncated string", "6461", "at byte 0: text string of 4 bytes runs past the end of the input"),
        ("truncated list", "830102", "at byte 0: list of 3 items runs past the end of the input"),
        ("truncated map", "a161", "at byte 0: map of 1 items runs past the end of the input"),
        ("missing map value", "a26161016162", "at byte 6: unexpected end of input"),
        (
            "canonically equivalent keys", "a262c3a9016365cc8102",
            "at byte 5: map keys differ only in Unicode normalization"
        ),
    ]

    @Test("Refuses non-canonical and non-IPLD input, naming the rule and the byte", arguments: refusalVectors)
    func refusals(rule: String, input: String, message: String) throws {
        let error = try #require(decodeError(hex(input)), "\(rule) was accepted")
        #expect(error.code == .malformed, "\(rule)")
        #expect(error.message.hasPrefix("dag-cbor " + message), "\(rule): \(error.message)")
    }

    /// UTF-8 byte sequences inside a text string, and whether they are well formed.
    @Test(arguments: [
        ("f09f8c8d", true), ("f48fbfbf", true), ("ee8080", true), ("ed9fbf", true), ("c280", true),
        ("6162636465666768696a6b6c6d6e6f70c3a9", true), ("f4908080", false), ("e08080", false),
        ("f0808080", false), ("c2", false), ("80", false), ("e6b0", false), ("fe", false), ("ff", false),
        ("6162636465666768696a6b6c6d6e6f70c3", false), ("edbfbf", false), ("c1bf", false),
    ])
    func validatesUTF8(sequence: String, valid: Bool) throws {
        let utf8 = hex(sequence)
        let encoded = [0x60 | UInt8(utf8.count)] + utf8
        if valid {
            #expect(try DAGCBOR.decode(encoded) == .string(String(decoding: utf8, as: UTF8.self)))
        } else {
            #expect(decodeError(encoded)?.message == "dag-cbor at byte 0: invalid UTF-8 in text string")
        }
    }

    @Test func refusesDeepNestingBeforeRecursing() throws {
        let deep = [UInt8](repeating: 0x81, count: 10_000) + [0x00]
        let error = try #require(decodeError(deep, limits: .init(maxBytes: 1 << 20)))
        #expect(error.code == .tooLarge)
        #expect(error.message == "dag-cbor at byte 64: nested deeper than 64 lists and maps")
        let deepMaps = [UInt8]((0..<5_000).map { _ in [0xA1, 0x61, 0x61] }.joined()) + [0xF6]
        #expect(decodeError(deepMaps, limits: .init(maxBytes: 1 << 20))?.code == .tooLarge)
        // Exactly at the limit is fine.
        let atLimit = [UInt8](repeating: 0x81, count: 64) + [0x00]
        #expect(decodeError(atLimit) == nil)
    }

    @Test(arguments: [
        ("9b1000000000000000", "list of 1152921504606846976 items runs past the end of the input"),
        ("bb1000000000000000", "map of 1152921504606846976 items runs past the end of the input"),
        ("5b1000000000000000", "byte string of 1152921504606846976 bytes runs past the end of the input"),
        ("7bffffffffffffffff", "text string of 18446744073709551615 bytes runs past the end of the input"),
    ])
    func refusesHugeLengthsWithoutAllocating(input: String, message: String) throws {
        let error = try #require(decodeError(hex(input)))
        #expect(error.message == "dag-cbor at byte 0: " + message)
    }

    @Test func refusesWhatIsOverTheLimits() throws {
        let big = DAGCBOR.encode(.bytes([UInt8](repeating: 0, count: 40_000)))
        let error = try #require(decodeError(big))
        #expect(error.code == .tooLarge)
        #expect(error.message == "dag-cbor: 40003 bytes is over the limit of 32768")
        let list = DAGCBOR.encode(.list(Array(repeating: 0, count: 10)))
        let items = try #require(decodeError(list, limits: .init(maxItems: 9)))
        #expect(items.code == .tooLarge)
        #expect(items.message == "dag-cbor at byte 0: list of 10 items is over the limit of 9")
        #expect(decodeError(list, limits: .init(maxItems: 10)) == nil)
    }

    @Test func refusesEveryTruncationOfAValidValue() throws {
        let value: IPLD = [
            "a": [1, 1000, -70_000], "b": .bytes([1, 2, 3]), "c": 1.5, "link": .link(try CID(helloCID)),
        ]
        let encoded = DAGCBOR.encode(value)
        for length in 0..<encoded.count {
            let error = decodeError(Array(encoded.prefix(length)))
            #expect(error?.code == .malformed, "prefix of \(length) bytes")
        }
        #expect(decodeError(encoded) == nil)
    }

    @Test func survivesMutatedAndRandomInput() {
        // SplitMix64, so every run tries the same inputs.
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var bits = state
            bits = (bits ^ (bits >> 30)) &* 0xBF58_476D_1CE4_E5B9
            bits = (bits ^ (bits >> 27)) &* 0x94D0_49BB_1331_11EB
            return bits ^ (bits >> 31)
        }
        let seeds = Self.vectors.map { hex($0.1) }.filter { !$0.isEmpty }
        for round in 0..<5_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = seeds[Int(next() % UInt64(seeds.count))]
                for _ in 0...(next() % 3) {
                    bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
                }
            } else {
                bytes = (0..<(next() % 48)).map { _ in UInt8(truncatingIfNeeded: next()) }
            }
            if let value = try? DAGCBOR.decode(bytes) {
                // Whatever is accepted is canonical: it re-encodes to exactly the bytes it came from.
                #expect(DAGCBOR.encode(value) == bytes, "\(hexString(bytes))")
            }
        }
    }
}
