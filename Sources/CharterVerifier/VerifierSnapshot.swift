import Foundation
import UCAN

/// One immutable view of the synced state: trusted issuers, revocations and how fresh they are.
///
/// The verifier swaps a whole snapshot at the end of a sync round, so the hot path reads one reference
/// and never waits for a sync.
final class VerifierSnapshot: Sendable {
    let configuration: VerifierConfiguration
    /// Checks structure, signatures, time, audience and trusted roots.
    let validator: Validator
    /// Whom the verifier trusts, and for which organization.
    let trust: IssuerTrust
    /// Revoked tokens by CID, and the hash functions those CIDs use.
    let revokedTokens: [CID: FeedEntry]
    let revokedHashers: Set<CID.Hasher>
    /// Revoked envelopes by id.
    let revokedEnvelopes: [String: FeedEntry]
    /// Where the verifier stands in each organization's feed.
    let feeds: [FeedKey: FeedPosition]
    let lastSuccessfulSync: Date?

    var trusted: Set<DID> { trust.dids }

    /// The server time in the oldest signed head of the feeds the configuration reads: how fresh the revocation
    /// data provably is. nil while any of those feeds has not been read. Worked out once per snapshot, since
    /// every verification reads it.
    let feedTime: Date?

    /// The state before any sync: pinned issuers only, nothing revoked.
    convenience init(configuration: VerifierConfiguration) {
        self.init(
            configuration: configuration, trust: IssuerTrust(configuration.issuers), revokedTokens: [:],
            revokedEnvelopes: [:], feeds: [:], lastSuccessfulSync: nil)
    }

    private init(
        configuration: VerifierConfiguration, trust: IssuerTrust, revokedTokens: [CID: FeedEntry],
        revokedEnvelopes: [String: FeedEntry], feeds: [FeedKey: FeedPosition], lastSuccessfulSync: Date?
    ) {
        self.configuration = configuration
        self.trust = trust
        self.revokedTokens = revokedTokens
        self.revokedHashers = Set(revokedTokens.keys.map(\.hasher))
        self.revokedEnvelopes = revokedEnvelopes
        self.feeds = feeds
        self.lastSuccessfulSync = lastSuccessfulSync
        var oldest: Date?
        for key in configuration.feeds {
            guard let time = feeds[key]?.head?.time else {
                oldest = nil
                break
            }
            oldest = min(oldest ?? time, time)
        }
        feedTime = oldest
        validator = Validator(
            policy: ValidationPolicy(
                leeway: configuration.leeway, trustedIssuers: trust.dids, audiences: configuration.audiences))
    }

    /// The state after a successful sync round.
    /// - Parameters:
    ///   - trust: the trusted issuers the round read, or the current ones when they are pinned.
    ///   - entries: feed entries whose heads and signatures were checked.
    ///   - feeds: where the round left each feed.
    ///   - syncedAt: when the round started.
    func merging(trust: IssuerTrust, entries: [FeedEntry], feeds: [FeedKey: FeedPosition], syncedAt: Date)
        -> VerifierSnapshot
    {
        var tokens = revokedTokens
        var envelopes = revokedEnvelopes
        // Entries are keyed by what they revoke, so one applied twice (by a concurrent round) changes nothing.
        for entry in entries {
            switch entry.kind {
            case .token(let cid): tokens[cid] = entry
            case .envelope(let id): envelopes[id] = entry
            }
        }
        // An entry outlives every token it covers by the leeway, then goes, as it does on the server.
        let cutoff = syncedAt.addingTimeInterval(-TimeInterval(max(0, configuration.leeway)))
        tokens = tokens.filter { $0.value.coversUntil >= cutoff }
        envelopes = envelopes.filter { $0.value.coversUntil >= cutoff }
        // A concurrent round may have gone further in a feed: keep whichever position is ahead.
        let positions = self.feeds.merging(feeds) { mine, theirs in mine.since > theirs.since ? mine : theirs }
        return VerifierSnapshot(
            configuration: configuration, trust: trust, revokedTokens: tokens, revokedEnvelopes: envelopes,
            feeds: positions, lastSuccessfulSync: max(lastSuccessfulSync ?? syncedAt, syncedAt))
    }
}

/// Whom a verifier trusts: issuer DIDs, the organization each signs for, and retired issuers' windows.
struct IssuerTrust: Sendable {
    /// Every issuer a root may be signed by.
    let dids: Set<DID>
    /// The organization of each published per-organization issuer.
    let organization: [DID: String]
    /// Who may sign each feed's heads; nil for pinned issuers, any of which may.
    let feedSigners: [FeedKey: Set<DID>]?
    /// For issuers that sign nothing new: the instant from which their tokens no longer verify.
    let windows: [DID: Date]

    /// Pinned issuers, trusted as given; nothing before the first sync when they are published.
    init(_ issuers: VerifierConfiguration.Issuers) {
        switch issuers {
        case .published: dids = []
        case .pinned(let pinned): dids = pinned
        }
        organization = [:]
        feedSigners = nil
        windows = [:]
    }

    /// The published issuers of the configured organizations and environments.
    init(published: [PublishedIssuer]) {
        dids = Set(published.map(\.did))
        var organization: [DID: String] = [:]
        var signers: [FeedKey: Set<DID>] = [:]
        var windows: [DID: Date] = [:]
        for issuer in published {
            if let org = issuer.org {
                organization[issuer.did] = org
                signers[FeedKey(org: org, environment: issuer.environment), default: []].insert(issuer.did)
            }
            if let notAfter = issuer.notAfter { windows[issuer.did] = notAfter }
        }
        self.organization = organization
        feedSigners = signers
        self.windows = windows
    }

    /// Whether `did` may sign the heads of `feed`.
    func signs(_ feed: FeedKey, _ did: DID) -> Bool {
        feedSigners.map { $0[feed]?.contains(did) ?? false } ?? dids.contains(did)
    }
}

extension VerifierConfiguration {
    /// The feeds to read: each trusted organization in each trusted environment.
    var feeds: [FeedKey] {
        organizations.flatMap { org in environments.map { FeedKey(org: org, environment: $0) } }.sorted()
    }

    /// Whether a published issuer is one this configuration may trust: of a trusted environment, and of a trusted
    /// organization (or shared by all, from an old server, whose roots must then name a trusted organization).
    func mayTrust(_ issuer: PublishedIssuer) -> Bool {
        environments.contains(issuer.environment) && (issuer.org.map(organizations.contains) ?? true)
    }
}
