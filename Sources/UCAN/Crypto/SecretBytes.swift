import CSodium

/// Fixed-size secret memory that is zeroed when the last reference goes away.
///
/// The buffer is written once in `init` and only read afterwards, so sharing it across
/// concurrency domains is safe; that is why the `@unchecked Sendable` is sound.
final class SecretBytes: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    /// Allocates `count` bytes and lets `initialize` fill them.
    init(count: Int, initialize: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        buffer = .allocate(byteCount: count, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        do {
            try initialize(buffer)
        } catch {
            Self.release(buffer)
            throw error
        }
    }

    deinit { Self.release(buffer) }

    /// Calls `body` with a read-only view of the secret.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(buffer))
    }

    private static func release(_ buffer: UnsafeMutableRawBufferPointer) {
        if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
        buffer.deallocate()
    }
}
