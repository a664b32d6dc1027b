public import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import UCAN

/// Verifies Charter-minted UCANs (0.10 tokens and 1.0 invocations) offline, keeping Charter's issuer DIDs and
/// revocation feed in sync.
///
/// ``verify(_:proofs:requiring:)`` makes no network call: it reads an immutable snapshot of the synced
/// state, which ``sync()`` replaces in one swap. Run the verifier as a `Service` (or call ``sync()``
/// yourself) so the snapshot stays fresh; when the newest signed feed head it holds is older than
/// ``VerifierConfiguration/maxFeedAge``, verification fails closed with `feed_stale`.
public final class CharterVerifier: Service, Sendable {
    /// The configuration it was created with.
    public let configuration: VerifierConfiguration
    let now: @Sendable () -> Date
    let logger: Logger
    let feed: FeedClient?
    /// The synced state; held only for as long as it takes to copy the reference.
    let state: Mutex<VerifierSnapshot>
    let caches = Caches()
    /// The UCAN 1.0 invocations verified so far, until they expire: each is accepted once.
    let replays: ReplayCache
    /// Set when a root from an unknown issuer shows up, so ``run()`` syncs early: a new or rotated issuer is
    /// trusted within about a second instead of a whole ``VerifierConfiguration/syncInterval``.
    let syncWanted = Atomic<Bool>(false)

    /// Creates a verifier; nothing is fetched until ``sync()`` or ``run()``.
    /// - Parameters:
    ///   - configuration: the server, trusted issuers, audiences, leeway and freshness bounds.
    ///   - logger: where sync failures are reported.
    ///   - now: the clock, injectable for tests.
    public init(
        _ configuration: VerifierConfiguration, logger: Logger = Logger(label: "charter.verifier"),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.now = now
        self.logger = logger
        feed = configuration.server.map { FeedClient(server: $0, timeout: max(1, min(configuration.syncInterval, 30))) }
        state = Mutex(VerifierSnapshot(configuration: configuration))
        replays = ReplayCache(capacity: configuration.replayCapacity)
    }

    deinit {
        feed?.http.close()
    }

    /// When the last sync round completed, by the injected clock; nil before the first.
    public var lastSuccessfulSync: Date? { snapshot.lastSuccessfulSync }

    var snapshot: VerifierSnapshot { state.withLock { $0 } }

    /// Runs one sync round: the issuer list (when issuers are published), then, for each trusted organization
    /// and environment, every revocation after the last sequence number seen, page by page up to the latest.
    ///
    /// Every page's signed head is checked (a trusted issuer of that organization, over exactly the entries
    /// received, for the range asked, no older than the last), so a proxy that drops, alters, reorders or replays
    /// pages fails the round. Nothing is applied unless the whole round succeeds, so a failed round leaves the
    /// previous state intact and the verifier goes stale, failing closed, rather than accept a revoked token.
    /// - Throws: when there is no server to sync from, or the server cannot be reached or answers badly.
    public func sync() async throws {
        guard let feed else { throw FeedError("no server is configured, so there is nothing to sync") }
        let started = now()
        let current = snapshot
        var positions = current.feeds
        var pages: [(FeedKey, RevocationPage)] = []
        for key in configuration.feeds {
            var position = positions[key] ?? FeedPosition()
            while true {
                let page = try await feed.revocations(key, since: position.since)
                try page.head.check(listed: page.listed, nextSince: page.nextSince, feed: key, position: position)
                var previous = position.since
                for entry in page.entries {
                    guard entry.seq > previous, entry.seq <= page.nextSince else {
                        throw FeedError("/v1/revocations: entries out of order or outside the signed range")
                    }
                    previous = entry.seq
                }
                pages.append((key, page))
                let advanced = page.nextSince > position.since
                position.since = page.nextSince
                position.head = (page.head.seq, page.head.time)
                if page.nextSince >= page.head.seq { break }
                guard advanced else { throw FeedError("/v1/revocations: next_since did not advance") }
            }
            positions[key] = position
        }
        // Issuers after the pages: a page may be signed by an issuer created to sign it (an organization's first).
        let trust: IssuerTrust
        switch configuration.issuers {
        case .published: trust = IssuerTrust(published: try await feed.issuers().filter(configuration.mayTrust))
        case .pinned: trust = current.trust
        }
        var accepted: [FeedEntry] = []
        var rejected = 0
        var skipped = 0
        for (key, page) in pages {
            guard trust.signs(key, page.head.issuer) else {
                throw FeedError(
                    "the \(key.org) \(key.environment) feed: the page head is not signed by a trusted issuer of that organization"
                )
            }
            for entry in page.entries {
                if entry.isAuthentic(trusting: trust.dids) { accepted.append(entry) } else { rejected += 1 }
            }
            skipped += page.skipped
        }
        if skipped > 0 {
            logger.warning("skipped revocation entries of an unknown kind", metadata: ["count": "\(skipped)"])
        }
        if rejected > 0 {
            logger.warning(
                "ignored revocation entries not signed by a trusted issuer", metadata: ["count": "\(rejected)"])
        }
        state.withLock { snapshot in
            snapshot = snapshot.merging(trust: trust, entries: accepted, feeds: positions, syncedAt: started)
        }
    }

    /// The ids of every organization that has issuers on `server`, for tools that accept any of them (such as
    /// `charter verify` without `--organization`); a service names the organizations it trusts instead.
    public static func publishedOrganizations(server: URL) async throws -> Set<String> {
        let client = FeedClient(server: server, timeout: 30)
        defer { client.http.close() }
        return Set(try await client.issuers().compactMap(\.org))
    }

    /// Syncs at once, then every ``VerifierConfiguration/syncInterval`` until cancelled or shut down gracefully.
    ///
    /// A failed round is logged and retried on the next tick; it never ends the service. Verification fails
    /// closed on its own once the data is older than ``VerifierConfiguration/maxFeedAge``. A root signed by an
    /// issuer not yet known brings the next round forward, at most once a second.
    public func run() async throws {
        let clock = ContinuousClock()
        let interval = Duration.milliseconds(Int64(max(0.05, configuration.syncInterval) * 1000))
        let tick = min(.milliseconds(250), interval)
        try? await cancelWhenGracefulShutdown {
            var due = clock.now
            var last = clock.now - .seconds(1)
            while !Task.isCancelled {
                let now = clock.now
                if now >= due || (now - last >= .seconds(1) && self.syncWanted.load(ordering: .relaxed)) {
                    self.syncWanted.store(false, ordering: .relaxed)
                    last = now
                    do {
                        try await self.sync()
                    } catch {
                        self.logger.error("charter sync failed", metadata: ["error": "\(error)"])
                    }
                    due = clock.now + interval
                }
                try await Task.sleep(for: tick)
            }
        }
    }

    /// Verifies a token and its proofs offline against the synced issuers and revocations.
    /// - Parameters:
    ///   - token: the outermost token, such as the `Authorization: Bearer` value.
    ///   - proofs: the tokens its chain cites, in any order.
    ///   - capability: what the caller must be allowed to do, if anything.
    /// - Returns: the token, its chain and the Charter facts of its root.
    /// - Throws: ``VerificationError`` with the first reason the token is refused.
    public func verify(
        _ token: String, proofs: [String] = [], requiring capability: Capability? = nil
    ) throws(VerificationError) -> VerifiedToken {
        try syncingOnUnknownIssuer { () throws(VerificationError) in
            try snapshot.verify(token, proofs: proofs, requiring: capability, at: now(), caches: caches)
        }
    }

    /// Verifies a UCAN 1.0 invocation and its delegations offline against the synced issuers and revocations, and
    /// accepts each invocation once.
    ///
    /// The invocation must be addressed to one of ``VerifierConfiguration/audiences`` and expire within
    /// ``VerifierConfiguration/maxInvocationLifetime``; its chain must root at a trusted issuer of a trusted
    /// organization as subject, and every policy on it must hold on the arguments. An invocation seen before is
    /// `replayed` until it expires.
    /// - Parameters:
    ///   - invocation: the invocation's envelope bytes.
    ///   - proofs: the delegations its `prf` cites, in any order.
    ///   - command: the command the caller serves, if it requires one: the invocation's must be exactly it.
    /// - Returns: the invocation, its chain and the Charter meta of its root.
    /// - Throws: ``VerificationError`` with the first reason it is refused (`policy_violation` naming the
    ///   statement that does not hold).
    public func verify(
        invocation: [UInt8], proofs: [[UInt8]], requiring command: Command? = nil
    ) throws(VerificationError) -> VerifiedInvocation {
        try syncingOnUnknownIssuer { () throws(VerificationError) in
            try snapshot.verify(
                invocation: invocation, proofs: proofs, requiring: command, at: now(), replays: replays, caches: caches)
        }
    }

    /// Runs a verification; a root from an issuer not (yet) published brings the next sync round forward.
    private func syncingOnUnknownIssuer<Verified>(
        _ verify: () throws(VerificationError) -> Verified
    ) throws(VerificationError) -> Verified {
        do {
            return try verify()
        } catch {
            if error.code == .untrustedIssuer, case .published = configuration.issuers {
                syncWanted.store(true, ordering: .relaxed)
            }
            throw error
        }
    }
}
