/// A `did:key` identifier for an Ed25519 public key (multicodec 0xed01, base58btc, prefix `z`).
public struct DID: Sendable, Hashable, CustomStringConvertible, Comparable {
    private static let prefix = "did:key:z"
    private static let multicodec: [UInt8] = [0xED, 0x01]

    /// The DID string, such as `did:key:z6Mk…`.
    public let string: String
    /// The Ed25519 key the DID names.
    public let publicKey: Ed25519.PublicKey

    /// The DID of a public key.
    public init(publicKey: Ed25519.PublicKey) {
        self.publicKey = publicKey
        self.string = Self.prefix + Base58.encode(Self.multicodec + publicKey.bytes)
    }

    /// Parses a `did:key` string.
    /// - Throws: ``UCANError`` (`invalid_field`) when it is not an Ed25519 did:key, or when its key is not a
    ///   full-order point (such as one of the eight small-order points, which no private key signs for).
    public init(_ string: String, field: String = "did") throws(UCANError) {
        if let key = KnownDIDs.key(of: string) {
            self.string = string
            self.publicKey = key
            return
        }
        guard string.hasPrefix(Self.prefix),
            let bytes = Base58.decode(string.dropFirst(Self.prefix.count)),
            bytes.count == 34, bytes[0] == 0xED, bytes[1] == 0x01,
            let key = try? Ed25519.PublicKey(bytes: Array(bytes[2...]))
        else {
            throw UCANError(.invalidField, field: field, "not an Ed25519 did:key")
        }
        // No seed yields a small-order point (lenient verifiers even accept forged signatures for one) or a
        // point with a torsion part: such a DID is no signer's own key, so nothing may be addressed to it.
        guard key.isFullOrderPoint else {
            throw UCANError(.invalidField, field: field, "the did:key's Ed25519 key is not a valid full-order point")
        }
        self.string = string
        self.publicKey = key
        KnownDIDs.insert(string, key)
    }

    public var description: String { string }

    public static func < (lhs: DID, rhs: DID) -> Bool { lhs.string < rhs.string }
}
