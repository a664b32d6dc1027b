import CSodium

/// Authenticated symmetric encryption (libsodium secretbox: XSalsa20-Poly1305).
public enum SecretBox {
    /// Key length in bytes.
    public static let keyByteCount = Int(crypto_secretbox_KEYBYTES)
    /// Nonce length in bytes; a random nonce is prefixed to every sealed box.
    public static let nonceByteCount = Int(crypto_secretbox_NONCEBYTES)
    /// Authentication tag length in bytes.
    public static let tagByteCount = Int(crypto_secretbox_MACBYTES)

    /// A 32-byte secretbox key, zeroed when the last copy is dropped.
    public struct Key: Sendable {
        fileprivate let secret: SecretBytes

        /// Generates a random key.
        public init() {
            var bytes = SecureBytes.random(count: SecretBox.keyByteCount)
            defer { SecureBytes.zero(&bytes) }
            try! self.init(bytes: bytes)  // the length is right by construction
        }

        /// Wraps 32 key bytes.
        /// - Throws: ``CryptoError`` when the length is not 32.
        public init(bytes: [UInt8]) throws(CryptoError) {
            guard bytes.count == SecretBox.keyByteCount else {
                throw .badLength("secretbox key", expected: SecretBox.keyByteCount, got: bytes.count)
            }
            secret = SecretBytes(count: bytes.count) { buffer in buffer.copyBytes(from: bytes) }
        }

        /// A copy of the key bytes, for storing outside the process; zero it when done.
        public func exportBytes() -> [UInt8] { secret.withBytes { Array($0) } }
    }

    /// Encrypts and authenticates `plaintext`; returns nonce ‖ ciphertext ‖ tag.
    public static func seal(_ plaintext: [UInt8], using key: Key) -> [UInt8] {
        _ = Sodium.ready
        let nonce = SecureBytes.random(count: nonceByteCount)
        var box = [UInt8](repeating: 0, count: tagByteCount + plaintext.count)
        key.secret.withBytes { k in
            _ = crypto_secretbox_easy(
                &box, plaintext, UInt64(plaintext.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return nonce + box
    }

    /// Authenticates and decrypts a box made by ``seal(_:using:)``.
    /// - Throws: ``CryptoError`` when the box is truncated, tampered with, or sealed under another key.
    public static func open(_ sealed: [UInt8], using key: Key) throws(CryptoError) -> [UInt8] {
        _ = Sodium.ready
        guard sealed.count >= nonceByteCount + tagByteCount else { throw CryptoError("secretbox is truncated") }
        let nonce = Array(sealed[..<nonceByteCount])
        let box = Array(sealed[nonceByteCount...])
        var plaintext = [UInt8](repeating: 0, count: box.count - tagByteCount)
        let status = key.secret.withBytes { k in
            crypto_secretbox_open_easy(
                &plaintext, box, UInt64(box.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard status == 0 else { throw CryptoError("secretbox authentication failed") }
        return plaintext
    }
}
