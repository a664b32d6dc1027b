import Testing
import UCAN

/// A document the parser must refuse, with the reason it must give.
struct JSONRejection: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let reason: String

    init(_ label: String, _ bytes: [UInt8], _ reason: String) {
        self.label = label
        self.bytes = bytes
        self.reason = reason
    }

    init(_ text: String, _ reason: String) {
        self.init(text.debugDescription, Array(text.utf8), reason)
    }

    var testDescription: String { label }
}

// Test data is built from scalars so the source file stays plain ASCII.
private let eAcute = "\u{E9}"
private let euro = "\u{20AC}"
private let grinning = "\u{1F600}"

@Suite("JSON parser and serializer")
struct JSONTests {
    // MARK: Parsing valid documents

    static let validDocuments: [(String, JSONValue)] = [
        ("null", .null),
        ("true", true),
        ("false", false),
        ("0", 0),
        ("-0", 0),
        ("123", 123),
        ("-45", -45),
        ("9223372036854775807", .integer(.max)),
        ("-9223372036854775808", .integer(.min)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808.0)),
        ("1.5", 1.5),
        ("-0.25e2", -25.0),
        ("1E3", 1000.0),
        ("2e-3", 0.002),
        ("0.1", 0.1),
        ("1e-400", 0.0),
        ("1.7976931348623157e308", .double(.greatestFiniteMagnitude)),
        ("123456789012345678901234567890", .double(1.2345678901234568e29)),
        ("\"\"", ""),
        ("\"a/b\"", "a/b"),
        (#""\/""#, "/"),
        (#""\"\\\b\f\n\r\t""#, "\"\\\u{8}\u{C}\n\r\t"),
        (#""\u0000\u001F""#, "\u{0}\u{1F}"),
        (#""\u00e9\u20AC""#, .string(eAcute + euro)),
        (#""\ud83d\ude00""#, .string(grinning)),
        (#""\uD83D\uDE00""#, .string(grinning)),
        ("\"" + eAcute + euro + grinning + "\"", .string(eAcute + euro + grinning)),
        ("[]", []),
        ("{}", [:]),
        (" \t\r\n[ 1 , \"x\" , null ] \n", [1, "x", .null]),
        (#"{"b":{"c":[true,{}]},"a":[]}"#, ["a": [], "b": ["c": [true, [:]]]]),
        (#"{"a":1,"A":2}"#, ["a": 1, "A": 2]),
        (#"[{"a":1},{"a":1}]"#, [["a": 1], ["a": 1]]),
    ]

    @Test("parses valid documents", arguments: validDocuments)
    func parsesValid(document: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(document) == expected)
    }

    static let numberKinds: [(String, Bool)] = [
        ("1", true), ("-1", true), ("1.0", false), ("1e0", false), ("-0.0", false), ("9223372036854775808", false),
    ]

    @Test("keeps integer lexemes exact and everything else double", arguments: numberKinds)
    func numberKind(document: String, isInteger: Bool) throws {
        let value = try JSONParser.parse(document)
        if case .integer = value {
            #expect(isInteger)
        } else {
            #expect(!isInteger)
        }
    }

    @Test("accepts every input form")
    func inputForms() throws {
        let text = #"{"k":[1,2]}"#
        let expected: JSONValue = ["k": [1, 2]]
        let bytes = Array(text.utf8)
        #expect(try JSONParser.parse(text) == expected)
        #expect(try JSONParser.parse(bytes) == expected)
        #expect(try JSONParser.parse(bytes[...]) == expected)
        #expect(try JSONParser.parse(bytes.lazy.map { $0 }) == expected)
        let fromBuffer = try bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try JSONParser.parse(buffer) }
        }.get()
        #expect(fromBuffer == expected)
    }

    // MARK: Rejections

    static let rejections: [JSONRejection] = [
        JSONRejection("", "unexpected end"),
        JSONRejection("   ", "unexpected end"),
        JSONRejection("[1", "unexpected end"),
        JSONRejection(#"{"a":1"#, "unexpected end"),
        JSONRejection(#""abc"#, "unexpected end"),
        JSONRejection("1 2", "trailing data"),
        JSONRejection("{}x", "trailing data"),
        JSONRejection("[1,]", "unexpected character"),
        JSONRejection(#"{"a":1,}"#, "expected string key"),
        JSONRejection("[1 2]", "expected ',' or ']'"),
        JSONRejection(#"{"a":1 "b":2}"#, "expected ',' or '}'"),
        JSONRejection(#"{"a" 1}"#, "expected ':'"),
        JSONRejection("{a:1}", "expected string key"),
        JSONRejection("'a'", "unexpected character"),
        JSONRejection("// c\n1", "unexpected character"),
        JSONRejection("/* c */ 1", "unexpected character"),
        JSONRejection("NaN", "unexpected character"),
        JSONRejection("Infinity", "unexpected character"),
        JSONRejection("-Infinity", "invalid number"),
        JSONRejection("True", "unexpected character"),
        JSONRejection("nul", "unexpected end"),
        JSONRejection("nulL", "invalid literal"),
        JSONRejection("01", "leading zero"),
        JSONRejection("-01", "leading zero"),
        JSONRejection("+1", "unexpected character"),
        JSONRejection("1.", "unexpected end"),
        JSONRejection("[1.]", "invalid number"),
        JSONRejection(".5", "unexpected character"),
        JSONRejection("-", "unexpected end"),
        JSONRejection("[-]", "invalid number"),
        JSONRejection("1e", "unexpected end"),
        JSONRejection("[1e+]", "invalid number"),
        JSONRejection("1e400", "number out of range"),
        JSONRejection("-1e400", "number out of range"),
        JSONRejection("1" + String(repeating: "0", count: 400), "number out of range"),
        JSONRejection("\u{0B}1", "unexpected character"),
        JSONRejection("\u{A0}1", "unexpected character"),
        JSONRejection("\u{FEFF}{}", "unexpected character"),
        JSONRejection("\"a\u{1}b\"", "control character in string"),
        JSONRejection("\"a\nb\"", "control character in string"),
        JSONRejection("\"\u{7F}\u{2028}\" x", "trailing data"),
        JSONRejection(#""\a""#, "invalid escape"),
        JSONRejection(#""\U0041""#, "invalid escape"),
        JSONRejection(#""\x41""#, "invalid escape"),
        JSONRejection(#""\u12G4""#, "invalid escape"),
        JSONRejection(#""\u12""#, "invalid escape"),
        JSONRejection(#""\u12"#, "unexpected end"),
        JSONRejection(#""\ud800""#, "lone surrogate"),
        JSONRejection(#""\udc00""#, "lone surrogate"),
        JSONRejection(#""\ude00\ud83d""#, "lone surrogate"),
        JSONRejection(#""\ud83d\u0041""#, "lone surrogate"),
        JSONRejection(#""\ud83dx""#, "lone surrogate"),
        JSONRejection(#""\ud83d\n""#, "lone surrogate"),
        JSONRejection("lone continuation", [0x22, 0x80, 0x22], "invalid UTF-8"),
        JSONRejection("overlong slash", [0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8"),
        JSONRejection("overlong 3-byte", [0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8"),
        JSONRejection("overlong 4-byte", [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], "invalid UTF-8"),
        JSONRejection("encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8"),
        JSONRejection("above U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8"),
        JSONRejection("5-byte lead", [0x22, 0xF8, 0x88, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8"),
        JSONRejection("0xFF byte", [0x22, 0xFF, 0x22], "invalid UTF-8"),
        JSONRejection("truncated before quote", [0x22, 0xE2, 0x82, 0x22], "invalid UTF-8"),
        JSONRejection("truncated at end", [0x22, 0xF0, 0x9F, 0x98], "unexpected end"),
        JSONRejection("invalid UTF-8 after escape", [0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], "invalid UTF-8"),
        JSONRejection("raw non-ASCII outside string", [0xC3, 0xA9], "unexpected character"),
        JSONRejection("NUL after value", [0x31, 0x00], "trailing data"),
    ]

    @Test("rejects malformed documents", arguments: rejections)
    func rejects(_ rejection: JSONRejection) {
        let error = #expect(throws: JSONError.self) { try JSONParser.parse(rejection.bytes) }
        #expect(error?.reason == rejection.reason)
        if let error { #expect(error.offset >= 0 && error.offset <= rejection.bytes.count) }
    }

    static let errorOffsets: [(String, Int)] = [
        ("[1,]", 3),
        (#"{"a":1,"a":2}"#, 7),
        ("01", 1),
        (#"["\u12G4"]"#, 6),
        ("[1] x", 4),
    ]

    @Test("reports the byte offset of the problem", arguments: errorOffsets)
    func errorOffset(document: String, offset: Int) {
        let error = #expect(throws: JSONError.self) { try JSONParser.parse(document) }
        #expect(error?.offset == offset)
    }

    @Test("never quotes the input in an error")
    func errorDoesNotLeakInput() {
        let document = #"{"secret":"hunter2","secret":"hunter2"}"#
        let error = #expect(throws: JSONError.self) { try JSONParser.parse(document) }
        #expect(error?.reason == "duplicate key")
        #expect(error.map { !$0.description.contains("hunter2") && !$0.description.contains("secret") } == true)
    }

    // MARK: Duplicate keys

    static let duplicateKeys: [String] = [
        #"{"a":1,"a":2}"#,
        #"{"a":1,"a":1}"#,
        #"{"a":1,"b":2,"a":3}"#,
        #"{"x":{"a":null,"a":null}}"#,
        #"[{"k":[]},{"k":1,"k":2}]"#,
        #"{"a":1,"\u0061":2}"#,
        #"{"\/":1,"/":2}"#,
        #"{"\ud83d\ude00":1,"\uD83D\uDE00":2}"#,
    ]

    @Test("rejects duplicate keys, comparing decoded strings", arguments: duplicateKeys)
    func rejectsDuplicateKeys(document: String) {
        let error = #expect(throws: JSONError.self) { try JSONParser.parse(document) }
        #expect(error?.reason == "duplicate key")
    }

    // MARK: Depth

    static func nestedArrays(_ depth: Int) -> String {
        String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    }

    static func nestedObjects(_ depth: Int) -> String {
        String(repeating: #"{"a":"#, count: depth) + "0" + String(repeating: "}", count: depth)
    }

    @Test("accepts nesting up to maxDepth and refuses one more", arguments: [1, 2, 5, 32])
    func depthLimit(maxDepth: Int) throws {
        _ = try JSONParser.parse(Self.nestedArrays(maxDepth), maxDepth: maxDepth)
        _ = try JSONParser.parse(Self.nestedObjects(maxDepth), maxDepth: maxDepth)
        for document in [Self.nestedArrays(maxDepth + 1), Self.nestedObjects(maxDepth + 1)] {
            let error = #expect(throws: JSONError.self) { try JSONParser.parse(document, maxDepth: maxDepth) }
            #expect(error?.reason == "nesting too deep")
        }
    }

    @Test("default depth limit is 32")
    func defaultDepth() throws {
        _ = try JSONParser.parse(Self.nestedArrays(32))
        #expect(throws: JSONError.self) { try JSONParser.parse(Self.nestedArrays(33)) }
    }

    @Test("maxDepth 0 allows only scalars")
    func zeroDepth() throws {
        #expect(try JSONParser.parse("7", maxDepth: 0) == 7)
        #expect(throws: JSONError.self) { try JSONParser.parse("[]", maxDepth: 0) }
    }

    @Test("refuses hostile deep nesting without recursing into it")
    func hostileDepth() {
        let open = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        let closed = open + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        let mixed = Array(String(repeating: #"{"a":["#, count: 50_000).utf8)
        for document in [open, closed, mixed] {
            let error = #expect(throws: JSONError.self) { try JSONParser.parse(document) }
            #expect(error?.reason == "nesting too deep")
        }
    }

    // MARK: Serializing

    static let serializations: [(JSONValue, String)] = [
        (.null, "null"),
        (true, "true"),
        (false, "false"),
        (0, "0"),
        (-1, "-1"),
        (.integer(.max), "9223372036854775807"),
        (.integer(.min), "-9223372036854775808"),
        (1.5, "1.5"),
        (-0.0, "-0.0"),
        (100.0, "100.0"),
        (1e300, "1e+300"),
        (.double(.infinity), "null"),
        (.double(-.infinity), "null"),
        (.double(.nan), "null"),
        ("", "\"\""),
        ("a/b", "\"a/b\""),
        ("\"\\", #""\"\\""#),
        ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#),
        ("\u{0}\u{1}\u{1F}", #""\u0000\u0001\u001f""#),
        ("\u{7F}", "\"\u{7F}\""),
        (.string(eAcute + euro + grinning + "\u{2028}"), "\"" + eAcute + euro + grinning + "\u{2028}\""),
        (
            .string("long plain text with a \" quote after eight bytes \n and more"),
            #""long plain text with a \" quote after eight bytes \n and more""#
        ),
        ([], "[]"),
        ([:], "{}"),
        ([1, "x", .null, [true]], #"[1,"x",null,[true]]"#),
        (["b": 1, "a": 2, "aa": 3, "B": 4, "": 5], #"{"":5,"B":4,"a":2,"aa":3,"b":1}"#),
        (["k": ["z": .null, "y": [["d": 1, "c": 2]]]], #"{"k":{"y":[{"c":2,"d":1}],"z":null}}"#),
        (["a/b": "c/d"], #"{"a/b":"c/d"}"#),
        (
            [grinning: 1, euro: 2, eAcute: 3, "z": 4],
            #"{"z":4,""# + eAcute + #"":3,""# + euro + #"":2,""# + grinning + #"":1}"#
        ),
        // Byte order, not Swift's `<`: "e" + U+0301 sorts before "f" by bytes, after it by canonical order.
        (["f": 1, "e\u{301}": 2], "{\"e\u{301}\":2,\"f\":1}"),
        (
            [String(repeating: "\u{7}", count: 9): "\u{1F}"],
            #"{"\u0007\u0007\u0007\u0007\u0007\u0007\u0007\u0007\u0007":"\u001f"}"#
        ),
    ]

    @Test("serializes byte-exactly", arguments: serializations)
    func serializes(value: JSONValue, expected: String) {
        #expect(value.serialized() == Array(expected.utf8))
        var output = Array("prefix".utf8)
        value.write(into: &output)
        #expect(output == Array(("prefix" + expected).utf8))
    }

    @Test("writeString escapes like the serializer")
    func writeString() {
        var output: [UInt8] = []
        JSONValue.writeString("did:key:z6Mk/\"\n", into: &output)
        #expect(output == Array(#""did:key:z6Mk/\"\n""#.utf8))
    }

    // MARK: Round trips and equality

    static let roundTripValues: [JSONValue] = [
        .null,
        [
            "aud": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "cap": ["mailto:alice@example.com": ["email/send": [[:]]]],
            "exp": 1_700_000_000, "fct": ["org": "o_1"], "nnc": "abc", "prf": [], "ucv": "0.10.0",
        ],
        [.integer(.min), .integer(.max), 0.1, -2.5e-300, 1e21],
        [.double(.leastNonzeroMagnitude), .double(.greatestFiniteMagnitude), .double(-.greatestFiniteMagnitude)],
        [.string("\u{0}\u{1F}\"\\/" + eAcute + grinning), ["\u{7F}": ["\u{FFFF}": "\u{10FFFF}"]]],
        ["f": 1, "e\u{301}": 2, "\u{E9}x": 3],
    ]

    @Test("parse(serialize(v)) == v", arguments: roundTripValues)
    func roundTrip(value: JSONValue) throws {
        let bytes = value.serialized()
        let parsed = try JSONParser.parse(bytes)
        #expect(parsed == value)
        #expect(parsed.serialized() == bytes)
    }

    @Test("integers and doubles with the same value are equal and hash alike")
    func numericEquality() {
        #expect(JSONValue.integer(1) == .double(1.0))
        #expect(JSONValue.double(-0.0) == .integer(0))
        #expect(JSONValue.integer(1).hashValue == JSONValue.double(1.0).hashValue)
        #expect(JSONValue.double(-0.0).hashValue == JSONValue.integer(0).hashValue)
        #expect(JSONValue.integer(1) != .double(1.5))
        #expect(JSONValue.integer(1) != .string("1"))
        // Exact comparison: 2^53 + 1 rounds to 2^53 as a double but is not equal to it.
        #expect(JSONValue.integer(9_007_199_254_740_993) != .double(9_007_199_254_740_992.0))
        #expect(JSONValue.double(9_223_372_036_854_775_808.0) != .integer(.max))
        #expect(Set<JSONValue>([1, 1.0, ["a": 2], ["a": 2.0]]).count == 2)
    }

    @Test("read accessors")
    func accessors() throws {
        let value = try JSONParser.parse(#"{"s":"x","n":3,"d":2.0,"b":true,"z":null,"a":[1],"o":{}}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["n"]?.integerValue == 3)
        #expect(value["d"]?.integerValue == 2)
        #expect(value["d"]?.doubleValue == 2.0)
        #expect(value["b"]?.boolValue == true)
        #expect(value["z"]?.isNull == true)
        #expect(value["a"]?.arrayValue == [1])
        #expect(value["o"]?.objectValue == [:])
        #expect(value["missing"] == nil)
        #expect(value["s"]?.integerValue == nil)
    }
}
