import CSodium

/// Ed25519 signatures (RFC 8032) through libsodium.
public enum Ed25519 {
    /// Length of a public key in bytes.
    public static let publicKeyByteCount = 32
    /// Length of a seed in bytes.
    public static let seedByteCount = 32
    /// Length of libsodium's secret key (seed followed by public key) in bytes.
    public static let secretKeyByteCount = 64
    /// Length of a signature in bytes.
    public static let signatureByteCount = 64

    /// An Ed25519 public key.
    public struct PublicKey: Sendable, Hashable {
        /// The 32 raw key bytes.
        public let bytes: [UInt8]

        /// Wraps 32 raw bytes.
        /// - Throws: ``CryptoError`` when the length is not 32.
        public init(bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == Ed25519.publicKeyByteCount else {
                throw .badLength("Ed25519 public key", expected: Ed25519.publicKeyByteCount, got: bytes.count)
            }
            self.bytes = bytes
        }

        /// Whether the bytes are the canonical encoding of a point of the prime-order subgroup: on the curve,
        /// not of small order and without a torsion component, so the key can belong to a real signer.
        public var isFullOrderPoint: Bool {
            if FullOrderPoints.contains(bytes) { return true }
            _ = Sodium.ready
            let valid = bytes.withUnsafeBufferPointer { key in
                crypto_core_ed25519_is_valid_point(key.baseAddress!) == 1
            }
            if valid { FullOrderPoints.insert(bytes) }
            return valid
        }

        /// Checks a detached signature over `message`; a signature of the wrong length is simply invalid.
        public func isValidSignature(_ signature: UnsafeRawBufferPointer, for message: UnsafeRawBufferPointer) -> Bool {
            guard signature.count == Ed25519.signatureByteCount else { return false }
            _ = Sodium.ready
            return bytes.withUnsafeBufferPointer { key in
                crypto_sign_verify_detached(
                    signature.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    key.baseAddress!
                ) == 0
            }
        }

        /// Checks a detached signature over `message`.
        public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
            signature.withUnsafeBytes { s in message.withUnsafeBytes { m in isValidSignature(s, for: m) } }
        }
    }

    /// An Ed25519 private key; its secret bytes are zeroed when the last copy is dropped.
    public struct SigningKey: Sendable {
        /// libsodium's 64-byte secret key: the seed, then the public key.
        private let secret: SecretBytes
        /// The matching public key.
        public let publicKey: PublicKey

        /// Generates a new key from the system CSPRNG.
        public init() {
            var seed = SecureBytes.random(count: Ed25519.seedByteCount)
            defer { SecureBytes.zero(&seed) }
            // A freshly generated seed always has the right length.
            try! self.init(seed: seed)
        }

        /// Derives the key deterministically from a 32-byte seed.
        /// - Throws: ``CryptoError`` when the seed is not 32 bytes.
        public init(seed: [UInt8]) throws(CryptoError) {
            guard seed.count == Ed25519.seedByteCount else {
                throw .badLength("Ed25519 seed", expected: Ed25519.seedByteCount, got: seed.count)
            }
            _ = Sodium.ready
            var publicKey = [UInt8](repeating: 0, count: Ed25519.publicKeyByteCount)
            secret = SecretBytes(count: Ed25519.secretKeyByteCount) { sk in
                seed.withUnsafeBufferPointer { s in
                    _ = crypto_sign_seed_keypair(
                        &publicKey, sk.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        s.baseAddress!)
                }
            }
            self.publicKey = try PublicKey(bytes: publicKey)
        }

        /// Loads libsodium's 64-byte secret key, checking that its public half matches its seed.
        /// - Throws: ``CryptoError`` when the length is wrong or the halves disagree.
        public init(secretKey: [UInt8]) throws(CryptoError) {
            guard secretKey.count == Ed25519.secretKeyByteCount else {
                throw .badLength("Ed25519 secret key", expected: Ed25519.secretKeyByteCount, got: secretKey.count)
            }
            var seed = Array(secretKey[0..<Ed25519.seedByteCount])
            defer { SecureBytes.zero(&seed) }
            try self.init(seed: seed)
            guard publicKey.bytes == Array(secretKey[Ed25519.seedByteCount...]) else {
                throw CryptoError("Ed25519 secret key's public half does not match its seed")
            }
        }

        /// Signs `message`, returning a 64-byte detached signature.
        public func signature(for message: UnsafeRawBufferPointer) -> [UInt8] {
            secret.withBytes { sk in
                [UInt8](unsafeUninitializedCapacity: Ed25519.signatureByteCount) { out, initialized in
                    _ = crypto_sign_detached(
                        out.baseAddress!, nil,
                        message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                        sk.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    )
                    initialized = Ed25519.signatureByteCount
                }
            }
        }

        /// Signs `message`, returning a 64-byte detached signature.
        public func signature(for message: [UInt8]) -> [UInt8] {
            message.withUnsafeBytes { signature(for: $0) }
        }

        /// A copy of libsodium's 64-byte secret key, for export; zero it when done.
        public func exportSecretKey() -> [UInt8] {
            secret.withBytes { Array($0) }
        }
    }
}
