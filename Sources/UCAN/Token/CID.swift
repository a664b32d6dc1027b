/// A content identifier: CIDv1 with a 32-byte multihash, for a 0.10 token (raw codec) or a 1.0 envelope
/// (DAG-CBOR codec); written in multibase base32 (`b…`).
public struct CID: Sendable, Hashable, CustomStringConvertible {
    /// What the identified bytes are.
    public enum Codec: UInt64, Sendable, Hashable, CaseIterable {
        /// Bytes as they are: a UCAN 0.10 token's text (`bafkrei…` with sha2-256).
        case raw = 0x55
        /// A DAG-CBOR block: a UCAN 1.0 envelope (`bafyrei…` with sha2-256).
        case dagCBOR = 0x71
    }

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
    private static let digestLength = 32

    /// What the bytes are.
    public let codec: Codec
    /// The hash function.
    public let hasher: Hasher
    /// The 32-byte digest.
    public let digest: [UInt8]
    /// The canonical string form, made when asked for (validation compares CIDs far more often than it prints
    /// them).
    public var string: String { "b" + Base32.encode(bytes) }

    /// The CID of `bytes`, which must be the exact bytes received, never a re-serialization.
    public init(hashing bytes: UnsafeRawBufferPointer, hasher: Hasher = .sha256, codec: Codec = .raw) {
        self.init(codec: codec, hasher: hasher, digest: hasher.digest(bytes))
    }

    /// The CID of `bytes`, which must be the exact bytes received, never a re-serialization.
    public init(hashing bytes: [UInt8], hasher: Hasher = .sha256, codec: Codec = .raw) {
        self = bytes.withUnsafeBytes { CID(hashing: $0, hasher: hasher, codec: codec) }
    }

    /// The CID of a token's exact encoded bytes.
    public init(of token: UCAN, hasher: Hasher = .sha256) {
        var encoded = token.encoded
        self = encoded.withUTF8 { CID(hashing: UnsafeRawBufferPointer($0), hasher: hasher) }
    }

    private init(codec: Codec, hasher: Hasher, digest: [UInt8]) {
        self.codec = codec
        self.hasher = hasher
        self.digest = digest
    }

    /// The binary CID: version, codec, multihash code, length and digest, as DAG-CBOR's tag 42 carries it
    /// (after a 0x00 multibase byte).
    public var bytes: [UInt8] { Self.binary(codec: codec, hasher: hasher, digest: digest) }

    private static func binary(codec: Codec, hasher: Hasher, digest: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4 + digest.count)
        Varint.append(Self.version, to: &bytes)
        Varint.append(codec.rawValue, to: &bytes)
        Varint.append(hasher.code, to: &bytes)
        Varint.append(UInt64(digest.count), to: &bytes)
        bytes += digest
        return bytes
    }

    /// Parses a CID string: base32 (`b…`), or for DAG-CBOR also base58btc (`z…`, as the UCAN 1.0 core spec
    /// writes them).
    /// - Throws: ``UCANError`` (`invalid_field`) unless it is a CIDv1 with the raw or DAG-CBOR codec and a
    ///   32-byte sha2-256 or blake3 multihash.
    public init(_ string: String, field: String = "cid") throws(UCANError) {
        let invalid = UCANError(.invalidField, field: field, "not a CIDv1 sha2-256 or blake3-256 CID")
        guard string.utf8.count < 128 else { throw invalid }
        let bytes: [UInt8]?
        switch string.first {
        case "b": bytes = Base32.decode(string.dropFirst())
        case "z": bytes = Base58.decode(string.dropFirst())
        default: bytes = nil
        }
        guard let bytes, let cid = try? CID(bytes: bytes, field: field),
            string.first == "b" || cid.codec == .dagCBOR
        else { throw invalid }
        self = cid
    }

    /// Reads a binary CID, such as the content of a DAG-CBOR tag 42 (without its 0x00 prefix).
    /// - Throws: ``UCANError`` (`invalid_field`) unless it is a CIDv1 with the raw or DAG-CBOR codec and a
    ///   32-byte sha2-256 or blake3 multihash, and nothing else.
    public init(bytes: [UInt8], field: String = "cid") throws(UCANError) {
        var index = 0
        guard Varint.read(bytes, at: &index) == Self.version,
            let codecCode = Varint.read(bytes, at: &index), let codec = Codec(rawValue: codecCode),
            let code = Varint.read(bytes, at: &index),
            let hasher = Hasher.allCases.first(where: { $0.code == code }),
            Varint.read(bytes, at: &index) == UInt64(Self.digestLength),
            bytes.count - index == Self.digestLength
        else {
            throw UCANError(.invalidField, field: field, "not a CIDv1 sha2-256 or blake3-256 CID")
        }
        self.init(codec: codec, hasher: hasher, digest: Array(bytes[index...]))
    }

    public var description: String { string }
}
