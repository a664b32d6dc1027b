/// A token whose whole delegation chain checked out.
public struct ValidatedChain: Sendable {
    /// The token that was validated.
    public let token: UCAN
    /// The proofs the chain used, by CID.
    public let proofs: [CID: UCAN]
    /// Every issuer on the chain, the token's own included: those who may revoke it.
    public let issuers: Set<DID>
    /// The issuers of the root tokens the chain ends in.
    public let rootIssuers: Set<DID>
}
