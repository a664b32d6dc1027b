import CSodium

/// Random bytes, constant-time comparison and zeroing: the small primitives every secret needs.
public enum SecureBytes {
    /// Returns `count` bytes from the operating system's CSPRNG.
    public static func random(count: Int) -> [UInt8] {
        _ = Sodium.ready
        guard count > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            randombytes_buf(buffer.baseAddress!, count)
            initialized = count
        }
    }

    /// Compares two byte strings in time that depends only on their lengths.
    ///
    /// Lengths are not secret (hashes and MACs have fixed sizes), so a length mismatch returns early.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        _ = Sodium.ready
        return lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in sodium_memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0 }
        }
    }

    /// Overwrites the bytes in place with zeros in a way the optimizer cannot drop.
    public static func zero(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        }
    }
}
