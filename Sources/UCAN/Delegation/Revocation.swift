/// A UCAN 0.10 revocation record: `{"iss", "revoke": CID, "challenge": sig("REVOKE:" + CID)}`.
public struct Revocation: Sendable, Hashable {
    /// Who revokes.
    public let issuer: DID
    /// The CID of the revoked token.
    public let revoked: CID
    /// The issuer's signature over `REVOKE:` followed by the CID string.
    public let challenge: [UInt8]

    /// Signs a revocation of `cid` with `key`.
    public init(revoking cid: CID, with key: Ed25519.SigningKey) {
        issuer = DID(publicKey: key.publicKey)
        revoked = cid
        challenge = key.signature(for: Self.message(for: cid))
    }

    /// Parses the JSON form.
    /// - Throws: ``UCANError`` (`invalid_revocation`) when a field is missing or malformed.
    public init(json bytes: [UInt8]) throws(UCANError) {
        guard let value = try? JSONParser.parse(bytes), case .object(let object) = value,
            Set(object.keys) == ["iss", "revoke", "challenge"],
            case .string(let iss)? = object["iss"], case .string(let cid)? = object["revoke"],
            case .string(let challenge)? = object["challenge"],
            let signature = Base64URL.decode(challenge), signature.count == Ed25519.signatureByteCount
        else {
            throw UCANError(.invalidRevocation, "is not {\"iss\", \"revoke\", \"challenge\"}")
        }
        do {
            issuer = try DID(iss, field: "iss")
            revoked = try CID(cid, field: "revoke")
        } catch {
            throw UCANError(.invalidRevocation, field: error.field, error.message)
        }
        self.challenge = signature
    }

    /// The JSON form, with keys sorted.
    public var json: [UInt8] {
        JSONValue.object([
            "iss": .string(issuer.string),
            "revoke": .string(revoked.string),
            "challenge": .string(Base64URL.encode(challenge)),
        ]).serialized()
    }

    /// Whether the challenge is the issuer's signature.
    public var hasValidSignature: Bool {
        issuer.publicKey.isValidSignature(challenge, for: Self.message(for: revoked))
    }

    /// Checks that the record is signed and that its issuer may revoke the chain's token.
    /// - Throws: ``UCANError`` (`invalid_revocation`) when it revokes another token, is badly signed, or
    ///   comes from an issuer outside the chain.
    public func verify(against chain: ValidatedChain) throws(UCANError) {
        guard CID(of: chain.token, hasher: revoked.hasher) == revoked else {
            throw UCANError(.invalidRevocation, field: "revoke", "names a different token")
        }
        guard hasValidSignature else {
            throw UCANError(.invalidRevocation, field: "challenge", "is not a valid signature by \(issuer)")
        }
        guard chain.issuers.contains(issuer) else {
            throw UCANError(.invalidRevocation, field: "iss", "\(issuer) is not an issuer in the token's chain")
        }
    }

    private static func message(for cid: CID) -> [UInt8] { Array("REVOKE:\(cid.string)".utf8) }
}
