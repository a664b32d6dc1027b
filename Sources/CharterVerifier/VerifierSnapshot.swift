import Foundation
import UCAN

/// One immutable view of the synced state: trusted issuers, revocations and when they were fetched.
///
/// The verifier swaps a whole snapshot at the end of a sync round, so the hot path reads one reference
/// and never waits for a sync.
final class VerifierSnapshot: Sendable {
    let configuration: VerifierConfiguration
    /// Checks structure, signatures, time, audience and trusted roots.
    let validator: Validator
    /// Every issuer a root may be signed by.
    let trusted: Set<DID>
    /// For issuers that sign nothing new: the instant from which their tokens no longer verify.
    let windows: [DID: Date]
    /// Revoked tokens by CID, and the hash functions those CIDs use.
    let revokedTokens: [CID: FeedEntry]
    let revokedHashers: Set<CID.Hasher>
    /// Revoked envelopes by id.
    let revokedEnvelopes: [String: FeedEntry]
    /// The last feed sequence number seen.
    let since: Int64
    let lastSuccessfulSync: Date?

    /// The state before any sync: pinned issuers only, nothing revoked.
    convenience init(configuration: VerifierConfiguration) {
        let trusted: Set<DID>
        switch configuration.issuers {
        case .published: trusted = []
        case .pinned(let pinned): trusted = pinned
        }
        self.init(
            configuration: configuration, trusted: trusted, windows: [:], revokedTokens: [:], revokedEnvelopes: [:],
            since: 0, lastSuccessfulSync: nil)
    }

    private init(
        configuration: VerifierConfiguration, trusted: Set<DID>, windows: [DID: Date], revokedTokens: [CID: FeedEntry],
        revokedEnvelopes: [String: FeedEntry], since: Int64, lastSuccessfulSync: Date?
    ) {
        self.configuration = configuration
        self.trusted = trusted
        self.windows = windows
        self.revokedTokens = revokedTokens
        self.revokedHashers = Set(revokedTokens.keys.map(\.hasher))
        self.revokedEnvelopes = revokedEnvelopes
        self.since = since
        self.lastSuccessfulSync = lastSuccessfulSync
        validator = Validator(
            policy: ValidationPolicy(
                leeway: configuration.leeway, trustedIssuers: trusted, audiences: configuration.audiences))
    }

    /// The state after a successful sync round.
    /// - Parameters:
    ///   - issuers: the published issuers, or nil when they are pinned.
    ///   - entries: feed entries whose signatures were checked, in feed order.
    ///   - since: the last sequence number the round saw.
    ///   - syncedAt: when the round started, which bounds how fresh its data is.
    func merging(issuers: [PublishedIssuer]?, entries: [FeedEntry], since: Int64, syncedAt: Date) -> VerifierSnapshot {
        var trusted = self.trusted
        var windows = self.windows
        if let issuers {
            trusted = Set(issuers.map(\.did))
            windows = [:]
            for issuer in issuers {
                if let notAfter = issuer.notAfter { windows[issuer.did] = notAfter }
            }
        }
        var tokens = revokedTokens
        var envelopes = revokedEnvelopes
        // A concurrent round may already have applied some entries; the sequence numbers make merging idempotent.
        for entry in entries where entry.seq > self.since {
            switch entry.kind {
            case .token(let cid): tokens[cid] = entry
            case .envelope(let id): envelopes[id] = entry
            }
        }
        // An entry outlives every token it covers by the leeway, then goes, as it does on the server.
        let cutoff = syncedAt.addingTimeInterval(-TimeInterval(max(0, configuration.leeway)))
        tokens = tokens.filter { $0.value.coversUntil >= cutoff }
        envelopes = envelopes.filter { $0.value.coversUntil >= cutoff }
        return VerifierSnapshot(
            configuration: configuration, trusted: trusted, windows: windows, revokedTokens: tokens,
            revokedEnvelopes: envelopes, since: max(self.since, since),
            lastSuccessfulSync: max(lastSuccessfulSync ?? syncedAt, syncedAt))
    }
}
