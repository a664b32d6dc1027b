public import UCAN

/// A token whose whole chain verified, with the Charter facts of its root.
public struct VerifiedToken: Sendable {
    /// The outermost token, as presented.
    public let token: UCAN
    /// The validated chain: proofs used and every issuer on it.
    public let chain: ValidatedChain
    /// `fct.org` of the Charter-minted root: the organization id.
    public let org: String?
    /// `fct.env` of the root: `live` or `test`.
    public let env: String?
    /// `fct.app` of the root: the app id.
    public let app: String?
    /// `fct.envelope` of the root: the envelope it was minted under.
    public let envelope: String?
    /// `fct.key` of the root: the id of the API key that minted it.
    public let key: String?

    /// The token ``RequireCapability`` verified for the request being handled; nil outside such a handler.
    @TaskLocal public static var current: VerifiedToken?

    /// Reads the facts from `root`, the Charter-minted token the chain ends in.
    init(token: UCAN, chain: ValidatedChain, root: UCAN) {
        self.token = token
        self.chain = chain
        let facts = root.payload.facts
        func fact(_ name: String) -> String? {
            if case .string(let value)? = facts?[name] { return value }
            return nil
        }
        org = fact("org")
        env = fact("env")
        app = fact("app")
        envelope = fact("envelope")
        key = fact("key")
    }
}
