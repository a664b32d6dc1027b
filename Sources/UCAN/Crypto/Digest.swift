import CSodium

/// SHA-256 through libsodium.
public enum SHA256 {
    /// The digest length in bytes.
    public static let byteCount = 32

    /// Hashes `bytes` in one shot.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        _ = Sodium.ready
        return [UInt8](unsafeUninitializedCapacity: byteCount) { out, initialized in
            _ = crypto_hash_sha256(
                out.baseAddress!, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                UInt64(bytes.count))
            initialized = byteCount
        }
    }

    /// Hashes `bytes` in one shot.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }
}

/// BLAKE2b (libsodium's generic hash), optionally keyed.
public enum BLAKE2b {
    /// Hashes `bytes` to `outputLength` bytes (16...64), keyed when `key` is given (16...64 bytes).
    /// - Throws: ``CryptoError`` when a length is out of range.
    public static func hash(_ bytes: [UInt8], outputLength: Int = 32, key: [UInt8]? = nil) throws(CryptoError)
        -> [UInt8]
    {
        _ = Sodium.ready
        let outRange = Int(crypto_generichash_BYTES_MIN)...Int(crypto_generichash_BYTES_MAX)
        guard outRange.contains(outputLength) else {
            throw CryptoError("BLAKE2b output length must be 16...64 bytes")
        }
        if let key, !(Int(crypto_generichash_KEYBYTES_MIN)...Int(crypto_generichash_KEYBYTES_MAX)).contains(key.count) {
            throw CryptoError("BLAKE2b key must be 16...64 bytes")
        }
        return [UInt8](unsafeUninitializedCapacity: outputLength) { out, initialized in
            bytes.withUnsafeBufferPointer { input in
                (key ?? []).withUnsafeBufferPointer { k in
                    _ = crypto_generichash(
                        out.baseAddress!, outputLength, input.baseAddress, UInt64(input.count),
                        k.baseAddress, k.count)
                }
            }
            initialized = outputLength
        }
    }
}
