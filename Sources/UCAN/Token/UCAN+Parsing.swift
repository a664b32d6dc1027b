extension UCAN {
    private static let headerFields: Set<String> = ["alg", "typ"]
    private static let payloadFields: Set<String> = ["ucv", "iss", "aud", "nbf", "exp", "nnc", "fct", "cap", "prf"]

    /// Parses a token and checks its shape strictly; the signature and time are checked by ``Validator``.
    /// - Parameters:
    ///   - text: the token, `header.payload.signature` in unpadded base64url.
    ///   - limits: size bounds; `maxTokenBytes` and `maxProofs` apply here.
    /// - Throws: ``UCANError`` naming the first field that is missing, mistyped or invalid.
    public init(parsing text: String, limits: Limits = .default) throws(UCANError) {
        var text = text
        guard text.utf8.count <= limits.maxTokenBytes else {
            throw UCANError(.tooLarge, "token is over \(limits.maxTokenBytes) bytes")
        }
        // withUTF8 only rethrows untyped errors, so the typed failure travels out in a Result.
        let parsed = try text.withUTF8 { bytes in
            Result { () throws(UCANError) in try Self.parse(UnsafeRawBufferPointer(bytes), limits: limits) }
        }.get()
        self.init(
            payload: parsed.payload, signature: parsed.signature, encoded: text, signedLength: parsed.signedLength)
    }

    private static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: Limits
    ) throws(UCANError) -> (payload: Payload, signature: [UInt8], signedLength: Int) {
        var dots: [Int] = []
        for index in bytes.indices where bytes[index] == UInt8(ascii: ".") {
            dots.append(index)
            if dots.count > 2 { break }
        }
        guard dots.count == 2 else { throw UCANError(.malformed, "a token has exactly three dot-separated parts") }
        let segments = [
            UnsafeRawBufferPointer(rebasing: bytes[..<dots[0]]),
            UnsafeRawBufferPointer(rebasing: bytes[(dots[0] + 1)..<dots[1]]),
            UnsafeRawBufferPointer(rebasing: bytes[(dots[1] + 1)...]),
        ]
        // Nearly every token carries the canonical header; recognising its bytes skips a decode and a parse.
        if !segments[0].elementsEqual(encodedHeader) {
            try checkHeader(json(segments[0], field: "header"))
        }
        let payload = try payload(json(segments[1], field: "payload"), limits: limits)
        guard let signature = Base64URL.decode(segments[2]) else {
            throw UCANError(.malformed, field: "signature", "is not unpadded base64url")
        }
        guard signature.count == Ed25519.signatureByteCount else {
            throw UCANError(.invalidField, field: "signature", "must be 64 bytes")
        }
        return (payload, signature, dots[1])
    }

    private static func json(_ segment: UnsafeRawBufferPointer, field: String) throws(UCANError) -> JSONObject {
        guard let decoded = Base64URL.decode(segment) else {
            throw UCANError(.malformed, field: field, "is not unpadded base64url")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(decoded)
        } catch {
            throw UCANError(.malformed, field: field, "is not valid JSON (\(error.reason))")
        }
        guard case .object(let object) = value else {
            throw UCANError(.malformed, field: field, "is not a JSON object")
        }
        return object
    }

    private static func checkHeader(_ header: JSONObject) throws(UCANError) {
        try rejectUnknownFields(header, allowed: headerFields, in: "header")
        switch header["alg"] {
        case nil: throw UCANError(.missingField, field: "alg", "is required")
        case .string("EdDSA"): break
        case .string: throw UCANError(.unsupportedAlgorithm, field: "alg", "must be EdDSA")
        default: throw UCANError(.invalidField, field: "alg", "must be a string")
        }
        switch header["typ"] {
        case nil: throw UCANError(.missingField, field: "typ", "is required")
        case .string("JWT"): break
        case .string: throw UCANError(.invalidField, field: "typ", "must be JWT")
        default: throw UCANError(.invalidField, field: "typ", "must be a string")
        }
    }

    private static func payload(_ object: JSONObject, limits: Limits) throws(UCANError) -> Payload {
        try rejectUnknownFields(object, allowed: payloadFields, in: "payload")
        let versionText = try string(object, "ucv")
        guard let version = SemanticVersion(versionText) else {
            throw UCANError(.invalidField, field: "ucv", "is not a semantic version")
        }
        guard version.major == 0, version.minor == 10 else {
            throw UCANError(.invalidField, field: "ucv", "version \(version) is not supported (0.10.x)")
        }
        let issuer = try DID(string(object, "iss"), field: "iss")
        let audience = try DID(string(object, "aud"), field: "aud")
        let expiration: Int64?
        switch object["exp"] {
        case nil: throw UCANError(.missingField, field: "exp", "is required (null for no expiry)")
        case .null: expiration = nil
        case let value?: expiration = try time(value, field: "exp")
        }
        let notBefore = try object["nbf"].map { value throws(UCANError) in try time(value, field: "nbf") }
        var nonce: String?
        if let value = object["nnc"] {
            guard case .string(let text) = value else {
                throw UCANError(.invalidField, field: "nnc", "must be a string")
            }
            nonce = text
        }
        var facts: JSONObject?
        if let value = object["fct"] {
            guard case .object(let fields) = value else {
                throw UCANError(.invalidField, field: "fct", "must be an object")
            }
            facts = fields
        }
        guard let cap = object["cap"] else { throw UCANError(.missingField, field: "cap", "is required") }
        let capabilities = try Capabilities(json: cap)
        var proofs: [CID] = []
        if let value = object["prf"] {
            guard case .array(let entries) = value else {
                throw UCANError(.invalidField, field: "prf", "must be an array of CID strings")
            }
            guard entries.count <= limits.maxProofs else {
                throw UCANError(.tooLarge, field: "prf", "more than \(limits.maxProofs) proofs")
            }
            for (index, entry) in entries.enumerated() {
                guard case .string(let text) = entry else {
                    throw UCANError(.invalidField, field: "prf[\(index)]", "must be a CID string")
                }
                proofs.append(try CID(text, field: "prf[\(index)]"))
            }
        }
        return Payload(
            version: version, issuer: issuer, audience: audience, notBefore: notBefore, expiration: expiration,
            nonce: nonce, facts: facts, capabilities: capabilities, proofs: proofs)
    }

    private static func rejectUnknownFields(
        _ object: JSONObject, allowed: Set<String>, in part: String
    ) throws(UCANError) {
        for key in object.keys where !allowed.contains(key) {
            let shown = key.count > 32 ? String(key.prefix(32)) + "…" : key
            throw UCANError(.invalidField, field: part, "unknown field \"\(shown)\"")
        }
    }

    private static func string(_ object: JSONObject, _ field: String) throws(UCANError) -> String {
        switch object[field] {
        case nil: throw UCANError(.missingField, field: field, "is required")
        case .string(let text): return text
        default: throw UCANError(.invalidField, field: field, "must be a string")
        }
    }

    private static func time(_ value: JSONValue, field: String) throws(UCANError) -> Int64 {
        guard case .integer(let seconds) = value, (0...maxTime).contains(seconds) else {
            throw UCANError(.invalidField, field: field, "must be an integer number of seconds")
        }
        return seconds
    }
}
