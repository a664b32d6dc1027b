import Testing
import UCAN

/// Every way a token can be malformed, each refused with the code and the field it concerns.
@Suite struct TokenDecodingTests {
    static let alice = Keys.alice.did.string
    static let bob = Keys.bob.did.string

    /// A valid payload with one field replaced (or removed, for nil).
    static func payload(_ field: String, _ json: String?) -> String {
        var fields = [
            "aud": "\"\(bob)\"", "cap": "{}", "exp": "1900000000", "iss": "\"\(alice)\"", "ucv": "\"0.10.0\"",
        ]
        fields[field] = json
        return "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let token: String
        let code: UCANError.Code
        let field: String?
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ucv missing", token: craft(payload: payload("ucv", nil)), code: .missingField, field: "ucv"),
        Case(name: "ucv a number", token: craft(payload: payload("ucv", "10")), code: .invalidField, field: "ucv"),
        Case(
            name: "ucv not semver", token: craft(payload: payload("ucv", "\"0.10\"")), code: .invalidField, field: "ucv"
        ),
        Case(
            name: "ucv leading zero", token: craft(payload: payload("ucv", "\"0.010.0\"")), code: .invalidField,
            field: "ucv"),
        Case(
            name: "ucv unsupported", token: craft(payload: payload("ucv", "\"0.9.1\"")), code: .invalidField,
            field: "ucv"),
        Case(name: "iss missing", token: craft(payload: payload("iss", nil)), code: .missingField, field: "iss"),
        Case(
            name: "iss not a DID", token: craft(payload: payload("iss", "\"alice\"")), code: .invalidField, field: "iss"
        ),
        Case(name: "iss an object", token: craft(payload: payload("iss", "{}")), code: .invalidField, field: "iss"),
        Case(name: "aud missing", token: craft(payload: payload("aud", nil)), code: .missingField, field: "aud"),
        Case(
            name: "aud did:web", token: craft(payload: payload("aud", "\"did:web:x.com\"")), code: .invalidField,
            field: "aud"),
        Case(name: "exp missing", token: craft(payload: payload("exp", nil)), code: .missingField, field: "exp"),
        Case(
            name: "exp a string", token: craft(payload: payload("exp", "\"1900000000\"")), code: .invalidField,
            field: "exp"),
        Case(
            name: "exp fractional", token: craft(payload: payload("exp", "1900000000.5")), code: .invalidField,
            field: "exp"),
        Case(name: "exp negative", token: craft(payload: payload("exp", "-1")), code: .invalidField, field: "exp"),
        Case(
            name: "exp past 2^53", token: craft(payload: payload("exp", "9007199254740992")), code: .invalidField,
            field: "exp"),
        Case(name: "nbf a string", token: craft(payload: payload("nbf", "\"1\"")), code: .invalidField, field: "nbf"),
        Case(name: "nbf null", token: craft(payload: payload("nbf", "null")), code: .invalidField, field: "nbf"),
        Case(name: "nnc a number", token: craft(payload: payload("nnc", "7")), code: .invalidField, field: "nnc"),
        Case(name: "fct an array", token: craft(payload: payload("fct", "[]")), code: .invalidField, field: "fct"),
        Case(name: "cap missing", token: craft(payload: payload("cap", nil)), code: .missingField, field: "cap"),
        Case(name: "cap an array", token: craft(payload: payload("cap", "[]")), code: .invalidField, field: "cap"),
        Case(
            name: "ability not an object", token: craft(payload: payload("cap", #"{"mailto:a@b.c":[]}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "caveats empty", token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"msg/send":[]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "caveats not an array", token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"msg/send":{}}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "caveat not an object", token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"msg/send":[1]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "ability without namespace",
            token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"send":[{}]}}"#)), code: .invalidField, field: "cap"
        ),
        Case(
            name: "ability empty segment", token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"msg/":[{}]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "reserved ucan ability", token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"ucan/*":[{}]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "reserved ucan scheme", token: craft(payload: payload("cap", #"{"ucan:*":{"msg/send":[{}]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "resource not a URI", token: craft(payload: payload("cap", #"{"no scheme":{"msg/send":[{}]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "ability twice by case",
            token: craft(payload: payload("cap", #"{"mailto:a@b.c":{"msg/send":[{}],"MSG/Send":[{}]}}"#)),
            code: .invalidField, field: "cap"),
        Case(
            name: "prf not an array", token: craft(payload: payload("prf", "\"bafy\"")), code: .invalidField,
            field: "prf"),
        Case(
            name: "prf entry a number", token: craft(payload: payload("prf", "[1]")), code: .invalidField,
            field: "prf[0]"),
        Case(
            name: "prf entry not a CID", token: craft(payload: payload("prf", #"["bafynot"]"#)), code: .invalidField,
            field: "prf[0]"),
        Case(
            name: "unknown payload field", token: craft(payload: payload("xyz", "1")), code: .invalidField,
            field: "payload"),
        Case(
            name: "alg none", token: craft(header: #"{"alg":"none","typ":"JWT"}"#, payload: payload("x", nil)),
            code: .unsupportedAlgorithm, field: "alg"),
        Case(
            name: "alg HS256", token: craft(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload("x", nil)),
            code: .unsupportedAlgorithm, field: "alg"),
        Case(
            name: "alg ES256", token: craft(header: #"{"alg":"ES256","typ":"JWT"}"#, payload: payload("x", nil)),
            code: .unsupportedAlgorithm, field: "alg"),
        Case(
            name: "alg lower-case", token: craft(header: #"{"alg":"eddsa","typ":"JWT"}"#, payload: payload("x", nil)),
            code: .unsupportedAlgorithm, field: "alg"),
        Case(
            name: "alg missing", token: craft(header: #"{"typ":"JWT"}"#, payload: payload("x", nil)),
            code: .missingField, field: "alg"),
        Case(
            name: "alg a number", token: craft(header: #"{"alg":1,"typ":"JWT"}"#, payload: payload("x", nil)),
            code: .invalidField, field: "alg"),
        Case(
            name: "typ missing", token: craft(header: #"{"alg":"EdDSA"}"#, payload: payload("x", nil)),
            code: .missingField, field: "typ"),
        Case(
            name: "typ wrong", token: craft(header: #"{"alg":"EdDSA","typ":"JOSE"}"#, payload: payload("x", nil)),
            code: .invalidField, field: "typ"),
        Case(
            name: "header extra field",
            token: craft(header: #"{"alg":"EdDSA","kid":"k","typ":"JWT"}"#, payload: payload("x", nil)),
            code: .invalidField, field: "header"),
        Case(
            name: "header duplicate alg",
            token: craft(header: #"{"alg":"EdDSA","alg":"none","typ":"JWT"}"#, payload: payload("x", nil)),
            code: .malformed, field: "header"),
        Case(
            name: "payload duplicate exp",
            token: craft(payload: #"{"aud":"\#(bob)","cap":{},"exp":1,"exp":null,"iss":"\#(alice)","ucv":"0.10.0"}"#),
            code: .malformed, field: "payload"),
        Case(name: "payload not JSON", token: craft(payload: "{"), code: .malformed, field: "payload"),
        Case(name: "payload an array", token: craft(payload: "[]"), code: .malformed, field: "payload"),
        Case(name: "two segments", token: "eyJhbGciOiJFZERTQSJ9.e30", code: .malformed, field: nil),
        Case(name: "four segments", token: craft(payload: payload("x", nil)) + ".x", code: .malformed, field: nil),
        Case(
            name: "padded base64", token: "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9=.e30.AA", code: .malformed,
            field: "header"),
        Case(
            name: "standard base64 alphabet",
            token: craft(payload: payload("x", nil)).replacingLastSegment(with: "+/+/"), code: .malformed,
            field: "signature"),
        Case(
            name: "short signature", token: craft(payload: payload("x", nil)).replacingLastSegment(with: "AAAA"),
            code: .invalidField, field: "signature"),
        Case(name: "empty", token: "", code: .malformed, field: nil),
    ]

    @Test(arguments: cases)
    func malformedTokensAreRefusedByField(_ item: Case) {
        let error = #expect(throws: UCANError.self) { try UCAN(parsing: item.token) }
        #expect(error?.code == item.code)
        #expect(error?.field == item.field)
    }

    @Test func theBaselinePayloadParses() throws {
        let token = try UCAN(parsing: craft(payload: Self.payload("nnc", "\"n\"")))
        #expect(token.payload.nonce == "n")
        #expect(token.hasValidSignature)
    }

    @Test func oversizedTokensAreRefusedBeforeParsing() {
        let big = craft(payload: Self.payload("fct", #"{"pad":""# + String(repeating: "x", count: 40_000) + #""}"#))
        #expect(throws: UCANError.self) { try UCAN(parsing: big) }
        #expect((try? UCAN(parsing: big, limits: Limits(maxTokenBytes: 100_000))) != nil)
        let tenMegabytes = String(repeating: "A", count: 10_000_000)
        #expect((#expect(throws: UCANError.self) { try UCAN(parsing: tenMegabytes) })?.code == .tooLarge)
    }

    @Test func tooManyProofsAreRefused() throws {
        let cid = try issue(Keys.alice, to: Keys.bob).cid.string
        let list = "[" + Array(repeating: "\"\(cid)\"", count: 33).joined(separator: ",") + "]"
        let error = #expect(throws: UCANError.self) { try UCAN(parsing: craft(payload: Self.payload("prf", list))) }
        #expect(error?.code == .tooLarge)
    }

    @Test func errorDescriptionsNameTheFieldWithoutEchoingTheToken() {
        let token = craft(payload: Self.payload("exp", "\"secret-looking-value\""))
        do {
            _ = try UCAN(parsing: token)
            Issue.record("expected a failure")
        } catch {
            #expect(error.description == "exp: must be an integer number of seconds")
            #expect(!error.description.contains("secret-looking-value"))
        }
    }
}

extension String {
    func replacingLastSegment(with segment: String) -> String {
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return parts.dropLast().joined(separator: ".") + "." + segment
    }
}
