extension UCAN {
    /// The largest integer a JSON number carries exactly everywhere (2^53 − 1); times must not exceed it, in 0.10
    /// and 1.0 tokens alike.
    static let maxTime: Int64 = 9_007_199_254_740_991

    static let encodedHeader = Array(Base64URL.encode(Array(headerJSON.utf8)).utf8)

    /// Builds and signs a token; the same payload and key always give byte-identical tokens.
    /// - Parameters:
    ///   - payload: the claims; `payload.issuer` must be the DID of `key`.
    ///   - key: the issuer's signing key.
    /// - Throws: ``UCANError`` when the issuer is not the key's DID, a time is out of range, or the token would be
    ///   larger than ``Limits/default`` lets a verifier parse (`too_large`, found before anything is signed).
    public init(signing payload: Payload, with key: Ed25519.SigningKey) throws(UCANError) {
        guard payload.issuer.publicKey == key.publicKey else {
            throw UCANError(.invalidField, field: "iss", "is not the DID of the signing key")
        }
        for (field, time) in [("exp", payload.expiration), ("nbf", payload.notBefore)] {
            if let time, !(0...Self.maxTime).contains(time) {
                throw UCANError(.invalidField, field: field, "must be between 0 and 2^53-1")
            }
        }
        if let notBefore = payload.notBefore, let expiration = payload.expiration, notBefore > expiration {
            throw UCANError(.invalidField, field: "nbf", "is after exp")
        }
        guard payload.proofs.count <= Limits.default.maxProofs else {
            throw UCANError(.tooLarge, field: "prf", "more than \(Limits.default.maxProofs) proofs")
        }

        let json = Self.payloadJSON(payload)
        let length =
            Self.encodedHeader.count + 1 + Base64URL.encodedCount(json.count) + 1
            + Base64URL.encodedCount(Ed25519.signatureByteCount)
        guard length <= Limits.default.maxTokenBytes else {
            throw UCANError(
                .tooLarge,
                "the token would be \(length) bytes, over the \(Limits.default.maxTokenBytes) verifiers accept")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.encodedHeader.count + json.count * 4 / 3 + 92)
        bytes += Self.encodedHeader
        bytes.append(UInt8(ascii: "."))
        json.withUnsafeBytes { Base64URL.encode($0, into: &bytes) }
        let signedLength = bytes.count
        let signature = bytes.withUnsafeBytes { key.signature(for: $0) }
        bytes.append(UInt8(ascii: "."))
        signature.withUnsafeBytes { Base64URL.encode($0, into: &bytes) }
        self.init(
            payload: payload, signature: signature, encoded: String(decoding: bytes, as: UTF8.self),
            signedLength: signedLength)
    }

    /// The payload as compact JSON with keys in sorted order and absent optional fields left out.
    static func payloadJSON(_ payload: Payload) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        func key(_ name: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        out.append(UInt8(ascii: "{"))
        key("aud", first: true)
        JSONValue.writeString(payload.audience.string, into: &out)
        key("cap")
        payload.capabilities.write(into: &out)
        key("exp")
        if let expiration = payload.expiration {
            out.append(contentsOf: String(expiration).utf8)
        } else {
            out.append(contentsOf: "null".utf8)
        }
        if let facts = payload.facts {
            key("fct")
            JSONValue.object(facts).write(into: &out)
        }
        key("iss")
        JSONValue.writeString(payload.issuer.string, into: &out)
        if let notBefore = payload.notBefore {
            key("nbf")
            out.append(contentsOf: String(notBefore).utf8)
        }
        if let nonce = payload.nonce {
            key("nnc")
            JSONValue.writeString(nonce, into: &out)
        }
        if !payload.proofs.isEmpty {
            key("prf")
            JSONValue.array(payload.proofs.map { .string($0.string) }).write(into: &out)
        }
        key("ucv")
        JSONValue.writeString(payload.version.description, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
