/// Bounds that keep hostile tokens and chains from costing unbounded time or memory.
public struct Limits: Sendable, Hashable {
    /// The defaults: 32 KiB per token, 32 proofs per token and per chain, chains 8 tokens deep.
    public static let `default` = Limits()

    /// The largest encoded token accepted, in bytes.
    public var maxTokenBytes: Int
    /// The most `prf` entries one token, and the most distinct proofs one chain, may have.
    public var maxProofs: Int
    /// The most tokens on any path from the token being validated to a root, itself included.
    public var maxDepth: Int

    /// Creates limits.
    public init(maxTokenBytes: Int = 32 * 1024, maxProofs: Int = 32, maxDepth: Int = 8) {
        self.maxTokenBytes = maxTokenBytes
        self.maxProofs = maxProofs
        self.maxDepth = maxDepth
    }
}
