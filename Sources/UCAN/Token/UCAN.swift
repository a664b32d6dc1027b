/// A signed UCAN 0.10 token in JWT form, holding the exact text it was built or parsed from.
///
/// A token is a bearer credential, so its descriptions name it by CID and never print its text.
public struct UCAN: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The only header Charter writes or accepts: `{"alg":"EdDSA","typ":"JWT"}`.
    public static let headerJSON = #"{"alg":"EdDSA","typ":"JWT"}"#

    /// The claims.
    public let payload: Payload
    /// The 64-byte Ed25519 signature over `header.payload`.
    public let signature: [UInt8]
    /// The token exactly as received or built; CIDs are computed over these bytes.
    public let encoded: String
    /// Byte length of the signed part (`header.payload`) at the start of `encoded`.
    let signedLength: Int

    init(payload: Payload, signature: [UInt8], encoded: String, signedLength: Int) {
        self.payload = payload
        self.signature = signature
        self.encoded = encoded
        self.signedLength = signedLength
    }

    /// The token by CID, issuer and audience; safe to log.
    public var description: String { "UCAN(\(cid), iss: \(payload.issuer), aud: \(payload.audience))" }

    /// The same as ``description``: debug output must not leak the token either.
    public var debugDescription: String { description }

    /// The sha2-256 CID of the token's bytes.
    public var cid: CID { CID(of: self) }

    /// Whether the signature verifies under the issuer's key.
    public var hasValidSignature: Bool {
        var text = encoded
        return text.withUTF8 { bytes in
            signature.withUnsafeBytes { signature in
                payload.issuer.publicKey.isValidSignature(
                    signature, for: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[..<signedLength]))
            }
        }
    }
}
