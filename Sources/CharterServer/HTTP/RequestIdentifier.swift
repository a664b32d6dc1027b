import Synchronization

/// Ids for requests that bring none of their own: 32 hex digits, a random half chosen at start and a
/// counter, written straight into the string. (Formatting Hummingbird's own request id took ~7% of an
/// in-process `GET /v1/me`.)
enum RequestIdentifier {
    private static let prefix = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(.random(in: .min ... .max))

    static func next() -> String {
        let sequence = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return String(unsafeUninitializedCapacity: 32) { buffer in
            write(prefix, into: buffer, at: 0)
            write(sequence, into: buffer, at: 16)
            return 32
        }
    }

    private static func write(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for index in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * index)) & 0xF
            buffer[offset + index] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
        }
    }
}
