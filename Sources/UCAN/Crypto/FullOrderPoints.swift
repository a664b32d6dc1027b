import Synchronization

/// Public keys already found to be full-order points, so each is checked once per process.
///
/// The check is a scalar multiplication (~70 µs, as long as verifying a signature), and every token parsed
/// names two keys, an issuer and an audience, which come back token after token.
enum FullOrderPoints {
    /// Keys remembered; past it the set starts over, which keeps the bound with no bookkeeping on the hot path.
    static let capacity = 4096

    private static let known = Mutex<Set<[UInt8]>>([])

    /// Whether `key` was found valid before.
    static func contains(_ key: [UInt8]) -> Bool { known.withLock { $0.contains(key) } }

    /// Remembers a key found valid; only valid keys are kept, so a flood of weak ones cannot crowd them out.
    static func insert(_ key: [UInt8]) {
        known.withLock { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known.insert(key)
        }
    }
}
