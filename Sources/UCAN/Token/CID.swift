/// A content identifier for a token: CIDv1, raw codec, a 32-byte multihash, multibase base32 (`b…`).
public struct CID: Sendable, Hashable, CustomStringConvertible {
    /// The hash function a CID uses.
    public enum Hasher: String, Sendable, Hashable, CaseIterable {
        /// SHA-256, the default.
        case sha256 = "sha2-256"
        /// BLAKE3 with a 32-byte output.
        case blake3 = "blake3-256"

        /// The multihash code.
        var code: UInt64 {
            switch self {
            case .sha256: 0x12
            case .blake3: 0x1E
            }
        }

        func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
            switch self {
            case .sha256:
                return SHA256.hash(bytes)
            case .blake3:
                var hasher = BLAKE3()
                hasher.update(bytes)
                return hasher.finalize()
            }
        }
    }

    private static let version: UInt64 = 1
    private static let rawCodec: UInt64 = 0x55
    private static let digestLength = 32

    /// The hash function.
    public let hasher: Hasher
    /// The 32-byte digest.
    public let digest: [UInt8]
    /// The canonical string form.
    public let string: String

    /// The CID of `bytes`, which must be the exact bytes received, never a re-serialization.
    public init(hashing bytes: UnsafeRawBufferPointer, hasher: Hasher = .sha256) {
        self.init(hasher: hasher, digest: hasher.digest(bytes))
    }

    /// The CID of a token's exact encoded bytes.
    public init(of token: UCAN, hasher: Hasher = .sha256) {
        var encoded = token.encoded
        self = encoded.withUTF8 { CID(hashing: UnsafeRawBufferPointer($0), hasher: hasher) }
    }

    private init(hasher: Hasher, digest: [UInt8]) {
        self.hasher = hasher
        self.digest = digest
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + digest.count)
        Varint.append(Self.version, to: &bytes)
        Varint.append(Self.rawCodec, to: &bytes)
        Varint.append(hasher.code, to: &bytes)
        Varint.append(UInt64(digest.count), to: &bytes)
        bytes += digest
        self.string = "b" + Base32.encode(bytes)
    }

    /// Parses a CID string.
    /// - Throws: ``UCANError`` (`invalid_field`) unless it is a base32 CIDv1 with the raw codec and a
    ///   32-byte sha2-256 or blake3 multihash.
    public init(_ string: String, field: String = "cid") throws(UCANError) {
        let invalid = UCANError(.invalidField, field: field, "not a CIDv1 raw sha2-256 or blake3-256 CID")
        guard string.utf8.count < 128, string.hasPrefix("b"), let bytes = Base32.decode(string.dropFirst()) else {
            throw invalid
        }
        var index = 0
        guard Varint.read(bytes, at: &index) == Self.version,
            Varint.read(bytes, at: &index) == Self.rawCodec,
            let code = Varint.read(bytes, at: &index),
            let hasher = Hasher.allCases.first(where: { $0.code == code }),
            Varint.read(bytes, at: &index) == UInt64(Self.digestLength),
            bytes.count - index == Self.digestLength
        else {
            throw invalid
        }
        self.init(hasher: hasher, digest: Array(bytes[index...]))
    }

    public var description: String { string }
}
