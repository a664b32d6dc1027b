/// The claims of a UCAN 0.10 token.
public struct Payload: Sendable, Hashable {
    /// `ucv`: the UCAN version.
    public var version: SemanticVersion
    /// `iss`: who signed the token.
    public var issuer: DID
    /// `aud`: who the token is for.
    public var audience: DID
    /// `nbf`: seconds since the epoch before which the token is not valid.
    public var notBefore: Int64?
    /// `exp`: seconds since the epoch from which the token is no longer valid; nil means never.
    public var expiration: Int64?
    /// `nnc`: a nonce that makes otherwise equal tokens distinct.
    public var nonce: String?
    /// `fct`: facts, an arbitrary object.
    public var facts: JSONObject?
    /// `cap`: what the token grants.
    public var capabilities: Capabilities
    /// `prf`: the CIDs of the tokens this one is delegated from.
    public var proofs: [CID]

    /// Creates a payload; times are seconds since the Unix epoch.
    public init(
        version: SemanticVersion = .ucan, issuer: DID, audience: DID, notBefore: Int64? = nil,
        expiration: Int64?, nonce: String? = nil, facts: JSONObject? = nil,
        capabilities: Capabilities = .none, proofs: [CID] = []
    ) {
        self.version = version
        self.issuer = issuer
        self.audience = audience
        self.notBefore = notBefore
        self.expiration = expiration
        self.nonce = nonce
        self.facts = facts
        self.capabilities = capabilities
        self.proofs = proofs
    }
}
