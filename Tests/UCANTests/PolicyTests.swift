import Testing
import UCAN

/// The UCAN 1.0 policy language, driven by the delegation spec's own examples (§ Policy to § Validation)
/// and by the choices the spec leaves open.
@Suite struct PolicyTests {
    // MARK: - Fixtures from the spec

    /// § Selectors: the example `args`.
    static let mail: IPLD = [
        "from": "alice@example.com",
        "to": ["bob@example.com", "carol@not.example.com", "dan@example.com"],
        "cc": ["fraud@example.com"],
        "title": "Meeting Confirmation",
        "body": "I'll see you on Tuesday",
    ]

    /// § Connectives: the example data.
    static let katie: IPLD = ["name": "Katie", "age": 35, "nationalities": ["Canadian", "South African"]]

    /// § Quantification: the example data.
    static let quantified: IPLD = ["a": [["b": 1], ["b": 2], ["z": [7, 8, 9]]]]

    /// § Validation: the example delegation's policy.
    static let mailPolicy: IPLD = [
        ["==", ".from", "alice@example.com"],
        ["any", ".to", ["like", ".", "*@example.com"]],
    ]

    // MARK: - Selectors

    struct Selection: Sendable, CustomStringConvertible {
        let selector: String
        let input: IPLD
        /// nil: the selector cannot be resolved.
        let expected: IPLD?
        init(_ selector: String, in input: IPLD = PolicyTests.mail, _ expected: IPLD?) {
            self.selector = selector
            self.input = input
            self.expected = expected
        }
        var description: String { selector }
    }

    static let selections: [Selection] = [
        // § Selectors, the table.
        Selection(".", mail),
        Selection(".title", "Meeting Confirmation"),
        Selection(".cc", ["fraud@example.com"]),
        Selection(".to[1]", "carol@not.example.com"),
        Selection(".to[-1]", "dan@example.com"),
        Selection(".to[99]?", nil as IPLD),
        Selection(".to[99]", nil),
        // § Selecting on Bytes: `{"/": {"bytes": "1qnBjPjE"}}` then `.[3]` is 0x8c.
        Selection(".[3]", in: .bytes([0xd6, 0xa9, 0xc1, 0x8c, 0xf8, 0xc4]), 140),
        Selection(".[-1]", in: .bytes([0xd6, 0xa9, 0xc1, 0x8c, 0xf8, 0xc4]), 0xc4),
        Selection(".[1:3]", in: .bytes([0xd6, 0xa9, 0xc1, 0x8c, 0xf8, 0xc4]), .bytes([0xa9, 0xc1])),
        Selection(".[6]", in: .bytes([0xd6, 0xa9, 0xc1, 0x8c, 0xf8, 0xc4]), nil),
        // The segment kinds the table lists.
        Selection(".[\"title\"]", "Meeting Confirmation"),
        Selection(".[\".\"]", in: [".": 1, "a": 2], 1),
        Selection(".[\"$_*\"]", in: ["$_*": true], true),
        Selection(".[\"1\"]", in: ["1": "one"], "one"),
        Selection(".bar0_", in: ["bar0_": 7], 7),
        Selection(".[\"a\\\"b\"]", in: ["a\"b": 1], 1),
        Selection(".[\"\\u00e9\\ud83d\\ude00\"]", in: ["é😀": 1], 1),
        Selection(".to[0]", "bob@example.com"),
        Selection(".to[-3]", "bob@example.com"),
        Selection(".to[-4]", nil),
        Selection(".to.[0]", "bob@example.com"),
        // List slices: half-open, negative from the end, clamped.
        Selection(".to[0:2]", ["bob@example.com", "carol@not.example.com"]),
        Selection(".to[1:]", ["carol@not.example.com", "dan@example.com"]),
        Selection(".to[:1]", ["bob@example.com"]),
        Selection(".to[0:-2]", ["bob@example.com"]),
        Selection(".to[7:11]", []),
        Selection(".to[2:1]", []),
        Selection(".to[-99:99]", ["bob@example.com", "carol@not.example.com", "dan@example.com"]),
        Selection(".title[0:2]", nil),
        // Collection values: a no-op on lists, the values (in DAG-CBOR key order) on maps.
        Selection(".to[]", ["bob@example.com", "carol@not.example.com", "dan@example.com"]),
        Selection(
            ".[]",
            [
                ["fraud@example.com"], ["bob@example.com", "carol@not.example.com", "dan@example.com"],
                "I'll see you on Tuesday", "alice@example.com", "Meeting Confirmation",
            ]),
        Selection(".a[].b", in: quantified, [1, 2, nil as IPLD]),
        Selection(".a[].z[]", in: ["a": [["z": [1, 2]], ["z": [3]]]], [1, 2, 3]),
        Selection(".a[].z", in: ["a": [["z": 1], 5]], nil),
        Selection(".a[].z?", in: ["a": [["z": 1], 5]], [1, nil as IPLD]),
        Selection(".title[]", nil),
        Selection(".title[]?", [nil as IPLD]),
        // Validation: a missing key is null; a nested selector on it fails unless optional.
        Selection(".missing", nil as IPLD),
        Selection(".missing.x", nil),
        Selection(".missing.x?", nil as IPLD),
        Selection(".missing?.x", nil),
        Selection(".title.x", nil),
        Selection(".title.x?", nil as IPLD),
        Selection(".title[0]", nil),
        Selection(".cc[\"0\"]", nil),
        Selection(".[0]", nil),
        // Resolved left to right, returning early even if a later segment is optional.
        Selection(".to[99].x?", nil),
        Selection(".to[99]?.x", nil as IPLD),
        // Repeated optionals are one.
        Selection(".to[99]???", nil as IPLD),
        Selection(".?", mail),
        // Keys are bytes: a canonically equivalent key is another key.
        Selection(".[\"e\\u0301\"]", in: ["é": 1], nil as IPLD),
    ]

    @Test(arguments: selections)
    func selects(_ example: Selection) throws {
        let selector = try Selector(example.selector)
        #expect(selector.select(example.input) == example.expected)
        #expect(selector.description == example.selector)
    }

    static let malformedSelectors = [
        "", "a", "[0]", "..", "...", ".a..b", ".a.", ".a.b.", ".[", ".[0", ".[]]", ".[01]", ".[-0]", ".[+1]",
        ".[1:2:3]", ".[:]", ".[abc]", ".[ 1]", ".[1 ]", ".[\"a\" ]", ".0a", ".a-b", ".é", ".a b", ".a?b",
        ".[\"unterminated]", ".[\"a\"", ".[\"\\q\"]", ".[\"\\ud800\"]", ".[\"\\udc00\"]", ".[\"\\u12\"]",
        ".[\"tab\there\"]", ".[99999999999999999999]", ".[-9223372036854775809]", ".a | .b", ".a[]..b",
    ]

    @Test(arguments: malformedSelectors)
    func refusesMalformedSelector(_ text: String) {
        #expect(throws: UCANError.self) { try Selector(text) }
        do {
            _ = try Selector(text)
        } catch {
            #expect(error.code == .invalidField)
        }
    }

    @Test func selectorLengthIsBounded() throws {
        let longest = "." + String(repeating: "a", count: 255)
        #expect(try Selector(longest).description == longest)
        #expect(throws: UCANError(.tooLarge, "a selector is limited to 256 bytes")) {
            try Selector(longest + "a")
        }
        // The bound counts UTF-8 bytes, not characters.
        let wide = ".[\"" + String(repeating: "é", count: 126) + "\"]"
        #expect(throws: UCANError.self) { try Selector(wide) }
    }

    /// Every short string over the selector alphabet parses or is refused, and what parses selects
    /// without trapping and writes itself back.
    @Test func exhaustiveShortSelectorsNeverTrap() {
        let alphabet: [Character] = [".", "[", "]", "\"", "\\", ":", "?", "-", "0", "1", "a", "u"]
        let sample: IPLD = ["a": [1, ["a": .bytes([1, 2])], "x"], "0": nil]
        var texts = [""]
        for _ in 0..<4 {
            texts = texts.flatMap { prefix in alphabet.map { prefix + String($0) } }
            for text in texts {
                guard let selector = try? Selector(text) else { continue }
                #expect(selector.description == text)
                _ = selector.select(sample)
            }
        }
    }

    // MARK: - Glob matching

    /// § Glob Matching: the pattern `Alice\*, Bob*, Carol.` and its listed strings.
    static let spellPattern = #"Alice\*, Bob*, Carol."#

    static let globs: [(pattern: String, text: String, matches: Bool)] = [
        (spellPattern, "Alice*, Bob, Carol.", true),
        (spellPattern, "Alice*, Bob, Dan, Erin, Carol.", true),
        (spellPattern, "Alice*, Bob  , Carol.", true),
        (spellPattern, "Alice*, Bob*, Carol.", true),
        (spellPattern, "Alice*, Bob, Carol", false),
        (spellPattern, "Alice*, Bob*, Carol!", false),
        (spellPattern, "Alice, Bob, Carol.", false),
        (spellPattern, "Alice Cooper, Bob, Carol.", false),
        (spellPattern, " Alice*, Bob, Carol. ", false),
        ("*@example.com", "bob@example.com", true),
        ("*@example.com", "carol@not.example.com", false),
        ("*@example.com", "@example.com", true),
        ("*", "", true),
        ("**", "anything", true),
        ("", "", true),
        ("", "a", false),
        ("abc", "abc", true),
        ("abc", "abcd", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("*ab*ab*", "xabyab", true),
        ("*ab*ab*", "xaby", false),
        ("\\*", "*", true),
        ("\\*", "x", false),
        (#"C:\\*"#, #"C:\temp"#, true),
        (#"a\b"#, #"a\b"#, true),
        (#"end\"#, #"end\"#, true),
        ("é*", "été", true),
        ("e\u{301}*", "é", false),
    ]

    @Test(arguments: globs.indices)
    func globMatches(_ index: Int) {
        let example = Self.globs[index]
        #expect(
            Glob(example.pattern).matches(example.text) == example.matches, "\(example.pattern) ~ \(example.text)")
    }

    @Test func hostileGlobFinishes() throws {
        let stars = Glob(String(repeating: "*", count: 10_000) + "b")
        #expect(!stars.matches(String(repeating: "a", count: 10_000)))
        let alternating = Glob(String(repeating: "*a", count: 5_000) + "*b")
        #expect(!alternating.matches(String(repeating: "a", count: 20_000)))
        #expect(alternating.matches(String(repeating: "a", count: 5_000) + "b"))
        let policy = try Policy([["like", ".s", .string(String(repeating: "*", count: 10_000))]])
        #expect(policy.evaluate(["s": .string(String(repeating: "x", count: 10_000))]) == nil)
    }

    // MARK: - Evaluation

    struct Evaluation: Sendable, CustomStringConvertible {
        let statement: IPLD
        let args: IPLD
        let holds: Bool
        let note: String
        init(_ note: String, _ statement: IPLD, _ args: IPLD, _ holds: Bool) {
            self.statement = statement
            self.args = args
            self.holds = holds
            self.note = note
        }
        var description: String { note }
    }

    static let evaluations: [Evaluation] = [
        // § Comparisons.
        Evaluation("== deep", ["==", ".a", [1, 2, ["b": 3]]], ["a": [1, 2, ["b": 3]]], true),
        Evaluation("== deep differs", ["==", ".a", [1, 2, ["b": 3]]], ["a": [1, 2, ["b": 4]]], false),
        Evaluation("== no prefix match", ["==", ".a", [1, 2]], ["a": [1, 2, 3]], false),
        Evaluation("!= deep", ["!=", ".a", [1, 2, ["b": 3]]], ["a": [1, 2, ["b": 3]]], false),
        Evaluation("!= differs", ["!=", ".a", [1, 2, ["b": 3]]], ["a": [1, 2]], true),
        Evaluation("<", ["<", ".a", 1], ["a": 0], true),
        Evaluation("< equal", ["<", ".a", 1], ["a": 1], false),
        Evaluation("<=", ["<=", ".a", 1], ["a": 1], true),
        Evaluation(">", [">", ".a", 1], ["a": 1.5], true),
        Evaluation(">=", [">=", ".a", 1], ["a": 0.5], false),
        Evaluation("1 == 1.0", ["==", ".a", 1], ["a": 1.0], true),
        Evaluation("1.0 == 1 in a list", ["==", ".a", [1.0]], ["a": [1]], true),
        Evaluation(">= int and float", [">=", ".a", 1.0], ["a": 1], true),
        Evaluation("2^53+1 > 2^53 float", [">", ".a", 9_007_199_254_740_992.0], ["a": 9_007_199_254_740_993], true),
        Evaluation("2^53+1 != 2^53 float", ["==", ".a", 9_007_199_254_740_992.0], ["a": 9_007_199_254_740_993], false),
        Evaluation("Int64.max < 2^63", ["<", ".a", 9_223_372_036_854_775_808.0], ["a": .integer(.max)], true),
        Evaluation("non-number is false", ["<", ".a", 1], ["a": "0"], false),
        Evaluation("null is not a number", [">", ".a", 1], ["a": nil], false),
        Evaluation("negated type mismatch holds", ["not", ["<", ".a", 1]], ["a": "0"], true),
        Evaluation("bool == 1 differs", ["==", ".a", 1], ["a": true], false),
        Evaluation("bytes ==", ["==", ".a", .bytes([1, 2])], ["a": .bytes([1, 2])], true),
        Evaluation("strings as bytes", ["==", ".a", "é"], ["a": "e\u{301}"], false),
        // § Glob Matching.
        Evaluation("like", ["like", ".email", "*@example.com"], ["email": "bob@example.com"], true),
        Evaluation("like on a non-string", ["like", ".email", "*"], ["email": 5], false),
        // § Connectives, on the Katie data.
        Evaluation("and []", ["and", []], katie, true),
        Evaluation("and", ["and", [["==", ".name", "Katie"], [">=", ".age", 21]]], katie, true),
        Evaluation(
            "and with a false",
            ["and", [["==", ".name", "Katie"], [">=", ".age", 21], ["==", ".nationalities", ["American"]]]],
            katie, false),
        Evaluation("or []", ["or", []], katie, true),
        Evaluation("or", ["or", [["==", ".name", "Katie"], [">", ".age", 45]]], katie, true),
        Evaluation("or all false", ["or", [["==", ".name", "Bob"], [">", ".age", 45]]], katie, false),
        Evaluation(
            "not", ["not", ["and", [["==", ".name", "Katie"], ["==", ".nationalities", ["American"]]]]], katie, true),
        Evaluation("not ==", ["not", ["==", ".a", 1]], ["a": 2], true),
        // § Quantification.
        Evaluation("all (spec)", ["all", ".a", [">", ".b", 0]], quantified, false),
        Evaluation("any (spec)", ["any", ".a", ["==", ".b", 2]], quantified, true),
        Evaluation("all holds", ["all", ".a", [">", ".b", 0]], ["a": [["b": 1], ["b": 2]]], true),
        Evaluation("all over map values", ["all", ".m", [">", ".", 0]], ["m": ["x": 1, "y": 2]], true),
        Evaluation("any over map values", ["any", ".m", ["==", ".", 2]], ["m": ["x": 1, "y": 2]], true),
        Evaluation("all over []", ["all", ".a", ["==", ".", 1]], ["a": []], true),
        Evaluation("any over [] fails", ["any", ".a", ["==", ".", 1]], ["a": []], false),
        Evaluation("all over a non-collection", ["all", ".a", ["==", ".", 1]], ["a": 1], false),
        Evaluation("any over a string", ["any", ".a", ["==", ".", "x"]], ["a": "x"], false),
        Evaluation("all over a missing key", ["all", ".a", ["==", ".", 1]], [:], false),
        Evaluation("all over a[].b", ["all", ".a[].b", [">", ".", 0]], ["a": [["b": 1], ["b": 2]]], true),
        // § Nested Quantification.
        Evaluation(
            "nested, holds", ["all", ".newsletters", ["any", ".recipients", ["==", ".email", "fraud@example.com"]]],
            [
                "newsletters": [
                    ["recipients": [["email": "a@example.com"], ["email": "fraud@example.com"]]],
                    ["recipients": [["email": "fraud@example.com"]]],
                ]
            ], true),
        Evaluation(
            "nested, fails", ["all", ".newsletters", ["any", ".recipients", ["==", ".email", "fraud@example.com"]]],
            [
                "newsletters": [
                    ["recipients": [["email": "fraud@example.com"]]],
                    ["recipients": [["email": "a@example.com"]]],
                ]
            ], false),
        // § Validation: a missing key is null; what cannot be resolved is false, and so is its negation.
        Evaluation("missing key is null", ["==", ".missing", nil], [:], true),
        Evaluation("missing key is not 1", ["==", ".missing", 1], [:], false),
        Evaluation("under a missing key", ["==", ".a.b", nil], [:], false),
        Evaluation("under a missing key, optional", ["==", ".a.b?", nil], [:], true),
        Evaluation("optional index", ["==", ".to[99]?", nil], mail, true),
        Evaluation("unresolved ==", ["==", ".to[99]", nil], mail, false),
        Evaluation("unresolved !=", ["!=", ".to[99]", "x"], mail, false),
        Evaluation("unresolved not ==", ["not", ["==", ".to[99]", "x"]], mail, false),
        Evaluation("unresolved like", ["not", ["like", ".to[99]", "*"]], mail, false),
        Evaluation("unresolved <", ["not", ["<", ".title.n", 1]], mail, false),
        Evaluation("unresolved quantifier", ["not", ["any", ".to[99]", ["==", ".", 1]]], mail, false),
        Evaluation(
            "or rescues unresolved", ["or", [["==", ".to[99]", "x"], ["==", ".cc[0]", "fraud@example.com"]]], mail, true
        ),
        Evaluation(
            "not and(false, unresolved)", ["not", ["and", [["==", ".title", "x"], ["==", ".to[99]", 1]]]], mail, true),
        Evaluation(
            "not and(true, unresolved)",
            ["not", ["and", [["==", ".title", "Meeting Confirmation"], ["==", ".to[99]", 1]]]], mail, false),
        Evaluation(
            "not or(false, unresolved)", ["not", ["or", [["==", ".title", "x"], ["==", ".to[99]", 1]]]], mail, false),
        Evaluation("all with an unresolved element", ["not", ["all", ".a", ["==", ".b.c", 1]]], quantified, false),
        Evaluation("any rescued by an element", ["any", ".a", ["==", ".z[0]", 7]], quantified, true),
        Evaluation("selecting into bytes", ["==", ".b[3]", 140], ["b": .bytes([0xd6, 0xa9, 0xc1, 0x8c])], true),
    ]

    @Test(arguments: evaluations)
    func evaluates(_ example: Evaluation) throws {
        let policy = try Policy([example.statement])
        let mismatch = policy.evaluate(example.args)
        #expect((mismatch == nil) == example.holds)
        if let mismatch {
            #expect(mismatch.index == 0)
            #expect(mismatch.statement == example.statement)
        }
    }

    /// § Validation: the step-by-step example and the verbatim `to` array.
    @Test func validationExample() throws {
        let policy = try Policy(Self.mailPolicy)
        let valid: IPLD = [
            "from": "alice@example.com", "to": ["bob@example.com", "carol@elsewhere.example.com"],
            "title": "Coffee", "body": "Still on for coffee",
        ]
        #expect(policy.evaluate(valid) == nil)
        let invalid: IPLD = [
            "from": "alice@example.com", "to": ["carol@elsewhere.example.com"], "title": "Coffee",
            "body": "Still on for coffee",
        ]
        let mismatch = try #require(policy.evaluate(invalid))
        #expect(mismatch.index == 1)
        #expect(mismatch.description == #"["any", ".to", ["like", ".", "*@example.com"]] did not hold"#)
        let sender = try #require(policy.evaluate(["from": "dan@example.com", "to": ["bob@example.com"]]))
        #expect(sender.index == 0)
        #expect(sender.description == #"["==", ".from", "alice@example.com"] did not hold"#)
    }

    @Test func mismatchShowsTheStatementNotTheArguments() throws {
        let policy = try Policy([["==", ".k", ["b": .bytes([0xd6, 0xa9, 0xc1]), "f": 1.5, "s": "a\"\n"]]])
        let mismatch = try #require(policy.evaluate(["k": "secret-value"]))
        #expect(
            mismatch.description
                == #"["==", ".k", {"b": {"/": {"bytes": "1qnB"}}, "f": 1.5, "s": "a\"\n"}] did not hold"#)
        #expect(!mismatch.description.contains("secret-value"))
    }

    @Test func emptyPolicyHolds() throws {
        #expect(Policy.empty.evaluate(Self.mail) == nil)
        #expect(Policy.empty.ipld == [])
        #expect(try Policy([]) == Policy.empty)
    }

    @Test func conjunctionNarrows() throws {
        let envelope = try Policy(Self.mailPolicy)
        let request = try Policy([["==", ".title", "Coffee"]])
        let both = envelope.and(request)
        #expect(both.statements.count == 3)
        #expect(both.ipld == .list(Self.mailPolicy.listValue! + [["==", ".title", "Coffee"]]))
        let args: IPLD = ["from": "alice@example.com", "to": ["bob@example.com"], "title": "Tea"]
        #expect(envelope.evaluate(args) == nil)
        #expect(both.evaluate(args)?.index == 2)
        #expect(envelope.and(.empty) == envelope)
        #expect(Policy.empty.and(request) == request)
    }

    @Test func keepsStatementsAsGiven() throws {
        let given: IPLD = [
            ["==", ".a", 1.0], ["!=", ".b", ["x": [1, nil]]], ["<", ".c", -2], ["<=", ".c", 2.5], [">", ".c", 0],
            [">=", ".c", 0], ["like", ".d", #"\*x*"#], ["and", []], ["or", [["not", ["==", ".e", true]]]],
            ["all", ".f[]", ["any", ".g?", ["==", ".", nil]]], ["==", ".[\"h\"]", .bytes([1])],
        ]
        let policy = try Policy(given)
        #expect(policy.ipld == given)
        #expect(IPLD.list(policy.statements.map(\.ipld)) == given)
        #expect(policy.statements[0] == .equal(try Selector(".a"), 1.0))
        #expect(policy.statements[6] == .like(try Selector(".d"), Glob(#"\*x*"#)))
    }

    // MARK: - Malformed policies

    static let malformed: [(policy: IPLD, field: String)] = [
        ("not a list", "pol"),
        (["==", ".a", 1], "pol[0]"),
        ([1], "pol[0]"),
        ([[]], "pol[0]"),
        ([[1, ".a", 1]], "pol[0][0]"),
        ([["match", ".a", 1]], "pol[0][0]"),
        ([["AND", []]], "pol[0][0]"),
        ([["==", ".a"]], "pol[0]"),
        ([["==", ".a", 1, 2]], "pol[0]"),
        ([["==", 1, 1]], "pol[0][1]"),
        ([["==", "a", 1]], "pol[0][1]"),
        ([["<", ".a", "1"]], "pol[0][2]"),
        ([["<", ".a", nil]], "pol[0][2]"),
        ([[">=", ".a", [1]]], "pol[0][2]"),
        ([[">", ".a", .float(.infinity)]], "pol[0][2]"),
        ([["like", ".a", 1]], "pol[0][2]"),
        ([["like", ".a"]], "pol[0]"),
        ([["and", "x"]], "pol[0][1]"),
        ([["and", [["==", ".a", 1]], []]], "pol[0]"),
        ([["or", ["==", ".a", 1]]], "pol[0][1][0]"),
        ([["not"]], "pol[0]"),
        ([["not", ["==", ".a"]]], "pol[0][1]"),
        ([["not", ["==", ".a", 1], ["==", ".a", 1]]], "pol[0]"),
        ([["all", ".a"]], "pol[0]"),
        ([["all", ".a", ["like", ".", 3]]], "pol[0][2][2]"),
        ([["any", 3, ["==", ".", 1]]], "pol[0][1]"),
        ([["any", "..", ["==", ".", 1]]], "pol[0][1]"),
        ([["==", ".a", 1], ["or", [["==", ".a", 1], ["==", "..", 1]]]], "pol[1][1][1][1]"),
    ]

    @Test(arguments: malformed.indices)
    func refusesMalformedPolicy(_ index: Int) {
        let example = Self.malformed[index]
        do {
            _ = try Policy(example.policy)
            Issue.record("accepted \(example.policy)")
        } catch {
            #expect(error.code == .invalidField, "\(error)")
            #expect(error.field == example.field, "\(error)")
        }
    }

    @Test func fieldPathUsesTheCallersPrefix() {
        #expect(throws: UCANError.self) { try Policy([["==", ".a"]], field: "prf[2].pol") }
        do {
            _ = try Policy([["not", ["?", ".a", 1]]], field: "prf[2].pol")
        } catch {
            #expect(error.field == "prf[2].pol[0][1][0]")
        }
    }

    // MARK: - Limits

    /// `["not", …]` wrapped around `["==", ".", 1]` so that the innermost statement sits `depth` deep.
    static func nested(_ depth: Int) -> IPLD {
        var statement: IPLD = ["==", ".", 1]
        for _ in 1..<depth { statement = ["not", statement] }
        return [statement]
    }

    @Test func nestingIsBounded() throws {
        #expect(try Policy(Self.nested(32)).statements.count == 1)
        do {
            _ = try Policy(Self.nested(33))
            Issue.record("accepted 33 levels")
        } catch {
            #expect(error.code == .tooLarge)
            #expect(error.field == "pol[0]" + String(repeating: "[1]", count: 32))
        }
        // Far past the limit it is refused at the limit, not by exhausting the stack.
        #expect(throws: UCANError.self) { try Policy(Self.nested(1_000)) }
        #expect(throws: UCANError.self) { try Policy(Self.nested(9), limits: PolicyLimits(maxDepth: 8)) }
    }

    @Test func statementCountIsBounded() throws {
        let statement: IPLD = ["==", ".a", 1]
        let fits = try Policy([["and", .list(Array(repeating: statement, count: 255))]])
        #expect(fits.evaluate(["a": 1]) == nil)
        do {
            _ = try Policy([["and", .list(Array(repeating: statement, count: 256))]])
            Issue.record("accepted 257 statements")
        } catch {
            #expect(error.code == .tooLarge)
            #expect(error.field == "pol[0][1][255]")
        }
        #expect(throws: UCANError.self) { try Policy(.list(Array(repeating: statement, count: 257))) }
    }

    @Test func selectorAndValueAreBounded() throws {
        do {
            _ = try Policy([["==", .string("." + String(repeating: "a", count: 256)), 1]])
            Issue.record("accepted a 257-byte selector")
        } catch {
            #expect(error.code == .tooLarge)
            #expect(error.field == "pol[0][1]")
        }
        func deep(_ depth: Int) -> IPLD { (0..<depth).reduce(IPLD.integer(1)) { inner, _ in [inner] } }
        #expect(try Policy([["==", ".a", deep(32)]]).evaluate(["a": deep(32)]) == nil)
        do {
            _ = try Policy([["!=", ".a", ["k": deep(32)]]])
            Issue.record("accepted a 33-deep literal")
        } catch {
            #expect(error.code == .tooLarge)
            #expect(error.field == "pol[0][2]")
        }
    }

    @Test func quantifiersAreLinear() throws {
        let large = IPLD.list((0..<100_000).map { IPLD.integer($0) })
        #expect(try Policy([["all", ".", [">=", ".", 0]]]).evaluate(large) == nil)
        #expect(try Policy([["any", ".", ["==", ".", 99_999]]]).evaluate(large) == nil)
        let grid = IPLD.list(Array(repeating: IPLD.list((0..<500).map { IPLD.integer($0) }), count: 500))
        let nested = try Policy([["all", ".", ["any", ".", ["==", ".", 499]]]])
        #expect(nested.evaluate(grid) == nil)
        #expect(try Policy([["all", ".[][]", ["<", ".", 500]]]).evaluate(grid) == nil)
    }
}
