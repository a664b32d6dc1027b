public import UCAN

/// A UCAN 1.0 invocation whose whole chain verified, with what a handler acts on: the command, its arguments,
/// the agent that signed it, and the Charter meta of the delegation it roots in.
public struct VerifiedInvocation: Sendable {
    /// The invocation, as presented.
    public let invocation: Invocation
    /// Its delegations, root first, as its `prf` lists them.
    public let delegations: [Delegation]
    /// `meta.org` of the Charter-minted root delegation: the organization id.
    public let org: String?
    /// `meta.env` of the root: `live` or `test`.
    public let env: String?
    /// `meta.app` of the root: the app id.
    public let app: String?
    /// `meta.envelope` of the root: the envelope it was minted under.
    public let envelope: String?
    /// `meta.key` of the root: the id of the API key that minted it.
    public let key: String?

    /// The command invoked, such as `/email/send`.
    public var command: Command { invocation.command }
    /// The invocation's arguments, every policy on the chain satisfied by them.
    public var arguments: [String: IPLD] { invocation.arguments }
    /// The agent: the DID whose key signed the invocation.
    public var agent: DID { invocation.issuer }

    /// The invocation ``RequireInvocation`` verified for the request being handled; nil outside such a handler.
    @TaskLocal public static var current: VerifiedInvocation?

    init(invocation: Invocation, delegations: [Delegation]) {
        self.invocation = invocation
        self.delegations = delegations
        let meta = delegations.first?.meta
        func value(_ name: String) -> String? {
            if case .string(let text)? = meta?[name] { return text }
            return nil
        }
        org = value("org")
        env = value("env")
        app = value("app")
        envelope = value("envelope")
        key = value("key")
    }
}
