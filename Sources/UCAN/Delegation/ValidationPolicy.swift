/// What a verifier accepts beyond the token's own validity: trusted roots, audiences, clock leeway, limits.
public struct ValidationPolicy: Sendable {
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    public var leeway: Int64
    /// Root issuers trusted to grant; nil trusts any root whose signature verifies.
    public var trustedIssuers: Set<DID>?
    /// Audiences the outermost token may name; nil accepts any.
    public var audiences: Set<DID>?
    /// Size, proof-count and depth bounds.
    public var limits: Limits

    /// Creates a policy; the defaults check structure, signatures and time only.
    public init(
        leeway: Int64 = 0, trustedIssuers: Set<DID>? = nil, audiences: Set<DID>? = nil, limits: Limits = .default
    ) {
        self.leeway = leeway
        self.trustedIssuers = trustedIssuers
        self.audiences = audiences
        self.limits = limits
    }
}
