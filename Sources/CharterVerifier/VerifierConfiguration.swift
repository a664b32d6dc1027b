public import Foundation
public import UCAN

/// How a ``CharterVerifier`` decides whom to trust and how fresh its revocation data must be.
public struct VerifierConfiguration: Sendable {
    /// Where the trusted issuer DIDs come from.
    public enum Issuers: Sendable {
        /// Trust what `GET /v1/issuers` on ``VerifierConfiguration/server`` lists, within each issuer's window.
        case published
        /// Trust exactly these DIDs; nothing is fetched for them.
        case pinned(Set<DID>)
    }

    /// Charter's base URL; issuers (unless pinned) and the revocation feed are synced from it.
    ///
    /// nil only with pinned issuers, for an air-gapped service: there is then no feed, so revocation is **not**
    /// checked and nothing goes stale; tokens stay valid until they expire. With published issuers and no server,
    /// every verification fails with `not_synced`.
    public var server: URL?
    /// The Charter organizations whose tokens this service accepts, by id (`org_…`). Required: every organization
    /// of a server has its own issuers, and a root minted by any other organization is `untrusted_issuer`.
    public var organizations: Set<String>
    /// Where trusted issuers come from; `.published` by default.
    public var issuers: Issuers
    /// The Charter environments whose published issuers are trusted: `live` only by default, so a token
    /// minted with a `test` key never passes a production service. Pinned issuers are trusted as given.
    public var environments: Set<String>
    /// The service's own DIDs: the outermost token's `aud` must be one of them (an empty set accepts none).
    public var audiences: Set<DID>
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    public var leeway: Int64
    /// Seconds after the server time in the oldest signed feed head from which verification fails closed
    /// (`feed_stale`); the verifier's clock must agree with the server's, as for `exp`.
    public var maxFeedAge: TimeInterval
    /// Seconds between two sync rounds while the verifier runs as a service.
    public var syncInterval: TimeInterval
    /// The longest a UCAN 1.0 invocation may live, in seconds: one with no `exp`, or a later one, is refused, so
    /// the replay cache need remember no invocation for longer.
    public var maxInvocationLifetime: Int64
    /// The most UCAN 1.0 invocations remembered at once against replay; when all are live, new ones are refused
    /// (`overloaded`) rather than one forgotten.
    public var replayCapacity: Int

    /// Creates a configuration.
    /// - Parameters:
    ///   - server: Charter's base URL, such as `https://charter.example.com`; nil for air-gapped use with pinned issuers.
    ///   - organizations: the ids of the organizations whose tokens to accept.
    ///   - issuers: `.published` to trust what the server lists, or `.pinned` DIDs.
    ///   - environments: which environments' published issuers to trust (`["live"]`, or `["test"]` for a
    ///     staging service).
    ///   - audiences: the DIDs this service answers to.
    ///   - leeway: clock skew tolerated, in seconds.
    ///   - maxFeedAge: how old the last successful sync may be before verification fails closed.
    ///   - syncInterval: how often ``CharterVerifier/run()`` syncs.
    ///   - maxInvocationLifetime: how far ahead a 1.0 invocation's `exp` may be, in seconds.
    ///   - replayCapacity: how many live 1.0 invocations the replay cache holds.
    public init(
        server: URL?, organizations: Set<String>, issuers: Issuers = .published, environments: Set<String> = ["live"],
        audiences: Set<DID>, leeway: Int64 = 30, maxFeedAge: TimeInterval = 60, syncInterval: TimeInterval = 10,
        maxInvocationLifetime: Int64 = 300, replayCapacity: Int = 100_000
    ) {
        self.server = server
        self.organizations = organizations
        self.issuers = issuers
        self.environments = environments
        self.audiences = audiences
        self.leeway = leeway
        self.maxFeedAge = maxFeedAge
        self.syncInterval = syncInterval
        self.maxInvocationLifetime = maxInvocationLifetime
        self.replayCapacity = replayCapacity
    }
}
