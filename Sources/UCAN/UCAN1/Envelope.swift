/// A UCAN 1.0 envelope: `[signature, {"h": varsig header, "ucan/<kind>@<version>": payload}]` in DAG-CBOR.
///
/// The signature covers the exact DAG-CBOR bytes of the second element, and the CID the exact bytes of the
/// whole envelope as received: decoding is strict, so nothing is ever re-encoded to be checked.
struct Envelope: Sendable {
    /// What the payload is.
    enum Kind: Sendable, Hashable {
        case delegation
        case invocation

        /// The tag written into new envelopes.
        var tag: String {
            switch self {
            case .delegation: "ucan/dlg@1.0.0"
            case .invocation: "ucan/inv@1.0.0"
            }
        }

        /// The tags read: the final ones, and the release candidates' that go-ucan and rs-ucan still write.
        static func of(tag: String) -> Kind? {
            switch tag {
            case "ucan/dlg@1.0.0", "ucan/dlg@1.0.0-rc.1": .delegation
            case "ucan/inv@1.0.0", "ucan/inv@1.0.0-rc.1": .invocation
            default: nil
            }
        }
    }

    /// The envelope's bytes as received or sealed.
    let bytes: [UInt8]
    let kind: Kind
    /// The payload tag as written, such as `ucan/dlg@1.0.0-rc.1`.
    let tag: String
    let payload: [String: IPLD]
    let signature: [UInt8]

    /// Where the signed bytes (the envelope's second element) start: after the list header and the 64 signature
    /// bytes with their two-byte length.
    private static let signedOffset = 3 + Ed25519.signatureByteCount

    /// The bytes the signature covers.
    var signedBytes: ArraySlice<UInt8> { bytes[Self.signedOffset...] }

    /// The envelope's CID: CIDv1, DAG-CBOR, sha2-256 over its exact bytes (`bafyrei…`).
    var cid: CID { CID(hashing: bytes, codec: .dagCBOR) }

    /// Signs `payload` with `key` and wraps it. The signed map is written once, straight after where the signature
    /// goes: its two keys in DAG-CBOR order (`h`, one byte, before any tag), the header, then the payload.
    static func seal(_ kind: Kind, payload: [String: IPLD], with key: Ed25519.SigningKey) -> Envelope {
        var bytes: [UInt8] = [0x82, 0x58, UInt8(Ed25519.signatureByteCount)]
        bytes.reserveCapacity(512)
        bytes += repeatElement(0, count: Ed25519.signatureByteCount)
        bytes += [0xA2, 0x61, UInt8(ascii: "h"), 0x40 | UInt8(Varsig.ed25519DAGCBOR.count)]
        bytes += Varsig.ed25519DAGCBOR
        DAGCBOR.encode(.string(kind.tag), into: &bytes)
        DAGCBOR.encode(.map(payload), into: &bytes)
        let signature = bytes[signedOffset...].withUnsafeBytes { key.signature(for: $0) }
        bytes.replaceSubrange(3..<signedOffset, with: signature)
        return Envelope(bytes: bytes, kind: kind, tag: kind.tag, payload: payload, signature: signature)
    }

    private init(bytes: [UInt8], kind: Kind, tag: String, payload: [String: IPLD], signature: [UInt8]) {
        self.bytes = bytes
        self.kind = kind
        self.tag = tag
        self.payload = payload
        self.signature = signature
    }

    /// Reads an envelope; the signature is not checked here (the payload names who must have signed).
    /// - Throws: ``UCANError``: `malformed` for bytes that are not canonical DAG-CBOR or not an envelope,
    ///   `too_large` over `limits`, `unsupported_algorithm` for anything but Ed25519 over DAG-CBOR.
    init(bytes: [UInt8], limits: Limits = .default) throws(UCANError) {
        guard bytes.count <= limits.maxTokenBytes else {
            throw UCANError(.tooLarge, "token is over \(limits.maxTokenBytes) bytes")
        }
        let decoded = try DAGCBOR.decode(bytes, limits: DAGCBOR.Limits(maxBytes: limits.maxTokenBytes))
        guard case .list(let parts) = decoded, parts.count == 2, case .bytes(let signature) = parts[0],
            case .map(let signed) = parts[1]
        else { throw UCANError(.malformed, "a UCAN 1.0 envelope is [signature, {h, payload}]") }
        guard signature.count == Ed25519.signatureByteCount else {
            throw UCANError(.malformed, field: "signature", "an Ed25519 signature is 64 bytes")
        }
        guard signed.count == 2, case .bytes(let header)? = signed["h"] else {
            throw UCANError(.malformed, field: "h", "the signed map holds the varsig header h and one payload")
        }
        try Varsig.check(header)
        guard let (tag, body) = signed.first(where: { $0.key != "h" }), let kind = Kind.of(tag: tag) else {
            throw UCANError(.malformed, "the payload tag is neither ucan/dlg@1.0.0 nor ucan/inv@1.0.0")
        }
        guard case .map(let payload) = body else {
            throw UCANError(.malformed, field: tag, "the payload is a map")
        }
        self.init(bytes: bytes, kind: kind, tag: tag, payload: payload, signature: signature)
    }

    /// Checks the signature under `issuer`'s key.
    /// - Throws: ``UCANError`` `invalid_signature`.
    func verifySignature(by issuer: DID) throws(UCANError) {
        let valid = signedBytes.withUnsafeBytes { message in
            signature.withUnsafeBytes { issuer.publicKey.isValidSignature($0, for: message) }
        }
        guard valid else {
            throw UCANError(.invalidSignature, "the signature does not verify under \(issuer)")
        }
    }
}
