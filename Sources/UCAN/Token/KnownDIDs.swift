import Synchronization

/// `did:key` strings already parsed and found valid, so each is decoded and point-checked once per process.
///
/// Decoding base58 and checking the point cost a few microseconds per DID, and every UCAN 1.0 envelope names
/// two or three of them, the same ones token after token (an issuer, its agents, a service).
enum KnownDIDs {
    /// DIDs remembered; past it the table starts over, which keeps the bound with no bookkeeping on the hot path.
    static let capacity = 4096

    private static let known = Mutex<[String: Ed25519.PublicKey]>([:])

    /// The key of a DID parsed before.
    static func key(of string: String) -> Ed25519.PublicKey? { known.withLock { $0[string] } }

    /// Remembers a DID found valid; only valid ones are kept, so a flood of bad ones cannot crowd them out.
    static func insert(_ string: String, _ key: Ed25519.PublicKey) {
        known.withLock { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known[string] = key
        }
    }
}
