public import Foundation
import Logging
import Synchronization

/// Per-key rate limits: a key with a limit of N per minute may burst N calls, refilled evenly.
///
/// On a store only one process uses (SQLite) each key's bucket lives in this process. On a store several
/// replicas share (PostgreSQL, a ``RateLimitLedger``) the bucket lives in the database and each replica
/// leases calls from it in slices of ``slice(of:)``, spending them locally for at most ``leaseLifetime``:
/// one database write per slice, none per call. A key limited to N per minute is then served, across any
/// number of replicas, at most what one bucket allows plus the calls of leases still live (at most
/// N × ``leaseLifetime`` / 60 beyond a single bucket), and while a replica holds a lease it does not use, the
/// others can be refused up to that lease's calls early; an expired lease's unspent calls go back to the
/// bucket when its replica next leases for the key. A refused key is refused locally until its bucket can have
/// refilled, so a flood over the limit costs no database write either. If the ledger cannot be reached, each
/// replica enforces the limit alone, asking the ledger again after ``ledgerRetry``, so an outage never makes a
/// request wait on it more than once in that time.
public final class RateLimiter: Sendable {
    /// How long leased calls may be spent.
    public static let leaseLifetime: TimeInterval = 5

    /// How long after the ledger fails each replica limits keys alone before asking it again.
    public static let ledgerRetry: TimeInterval = 5

    /// How many calls one lease takes: a twentieth of the per-minute limit (three seconds of refill), at least one.
    public static func slice(of limitPerMinute: Int) -> Int { max(1, limitPerMinute / 20) }

    private struct Lease {
        var limit: Int
        var calls = 0
        var expires = Date.distantPast
        var refusedUntil: Date?
    }

    private let ledger: (any RateLimitLedger)?
    private let local = TokenBuckets()
    private let leases = Mutex<[String: Lease]>([:])
    /// Until when the ledger is not asked, after it failed.
    private let ledgerDown = Mutex<Date?>(nil)
    private let logger = Logger(label: "charter.rate-limits")

    /// - Parameter ledger: the buckets several replicas share; nil keeps every bucket in this process.
    public init(ledger: (any RateLimitLedger)? = nil) {
        self.ledger = ledger
    }

    /// Takes one call from `keyID`'s budget.
    /// - Returns: nil when allowed, or the whole seconds to wait before retrying.
    public func take(keyID: String, limitPerMinute: Int, at now: Date) async -> Int? {
        guard let ledger, ledgerDown.withLock({ $0.map { now >= $0 } ?? true }) else {
            return local.take(keyID, limitPerMinute: limitPerMinute, at: now)
        }
        enum Next {
            case allow
            case refuse(wait: Int)
            case lease(returning: Int)
        }
        let next = leases.withLock { leases -> Next in
            if leases[keyID] == nil, leases.count >= TokenBuckets.maximumBuckets {
                leases = leases.filter { $0.value.expires > now || ($0.value.refusedUntil ?? .distantPast) > now }
                if leases.count >= TokenBuckets.maximumBuckets { leases.removeAll() }
            }
            var lease = leases[keyID].flatMap { $0.limit == limitPerMinute ? $0 : nil } ?? Lease(limit: limitPerMinute)
            defer { leases[keyID] = lease }
            if lease.calls > 0, now < lease.expires {
                lease.calls -= 1
                return .allow
            }
            if let until = lease.refusedUntil, now < until {
                return .refuse(wait: max(1, Int(until.timeIntervalSince(now).rounded(.up))))
            }
            let unspent = lease.calls
            lease.calls = 0
            return .lease(returning: unspent)
        }
        let unspent: Int
        switch next {
        case .allow: return nil
        case .refuse(let wait): return wait
        case .lease(let returning): unspent = returning
        }
        let granted: (taken: Int, bucket: TokenBucket)
        do {
            granted = try await ledger.lease(
                keyID: keyID, limitPerMinute: limitPerMinute, wanted: Self.slice(of: limitPerMinute),
                returning: unspent, at: now)
        } catch {
            logger.warning(
                "the shared rate-limit ledger failed; limiting this replica alone for a while",
                metadata: ["error": "\(type(of: error))"])
            ledgerDown.withLock { $0 = now.addingTimeInterval(Self.ledgerRetry) }
            return local.take(keyID, limitPerMinute: limitPerMinute, at: now)
        }
        return leases.withLock { leases in
            var lease = leases[keyID] ?? Lease(limit: limitPerMinute)
            defer { leases[keyID] = lease }
            guard granted.taken > 0 else {
                let wait = granted.bucket.wait(limitPerMinute: limitPerMinute)
                lease.refusedUntil = now.addingTimeInterval(TimeInterval(wait))
                return wait
            }
            lease.calls += granted.taken - 1
            lease.expires = now.addingTimeInterval(Self.leaseLifetime)
            lease.refusedUntil = nil
            return nil
        }
    }
}

/// Token buckets in this process's memory, by name (a key's id, an address), at most ``maximumBuckets`` of them.
public final class TokenBuckets: Sendable {
    static let maximumBuckets = 100_000

    private let buckets = Mutex<[String: TokenBucket]>([:])

    public init() {}

    /// The whole seconds `name` must wait before its next call, without taking one; nil when it may call now.
    public func wait(for name: String, limitPerMinute: Int, at now: Date) -> Int? {
        buckets.withLock { buckets in
            guard var bucket = buckets[name] else { return nil }
            bucket.refill(to: now, limitPerMinute: limitPerMinute)
            return bucket.tokens >= 1 ? nil : bucket.wait(limitPerMinute: limitPerMinute)
        }
    }

    /// Takes one call from `name`'s bucket.
    /// - Returns: nil when allowed, or the whole seconds to wait before retrying.
    public func take(_ name: String, limitPerMinute: Int, at now: Date) -> Int? {
        buckets.withLock { buckets in
            // A flood of distinct names (addresses, for failed attempts) must not grow memory without bound:
            // full buckets carry no information, so they are the ones dropped.
            if buckets[name] == nil, buckets.count >= Self.maximumBuckets {
                buckets = buckets.filter {
                    var bucket = $0.value
                    bucket.refill(to: now, limitPerMinute: limitPerMinute)
                    return bucket.tokens < Double(limitPerMinute)
                }
                if buckets.count >= Self.maximumBuckets { buckets.removeAll() }
            }
            var bucket = buckets[name] ?? TokenBucket(full: limitPerMinute, at: now)
            bucket.refill(to: now, limitPerMinute: limitPerMinute)
            defer { buckets[name] = bucket }
            return bucket.take(upTo: 1) == 1 ? nil : bucket.wait(limitPerMinute: limitPerMinute)
        }
    }
}

/// One key's budget: up to its per-minute limit of calls, refilled at a sixtieth of it a second.
public struct TokenBucket: Sendable, Hashable {
    public var tokens: Double
    /// When `tokens` was last refilled; never moves back, so a replica whose clock is behind refills nothing.
    public var updated: Date

    public init(tokens: Double, updated: Date) {
        self.tokens = tokens
        self.updated = updated
    }

    /// A bucket with the whole burst available.
    public init(full limitPerMinute: Int, at now: Date) {
        self.init(tokens: Double(limitPerMinute), updated: now)
    }

    /// Adds what has refilled since `updated`.
    public mutating func refill(to now: Date, limitPerMinute: Int) {
        let elapsed = max(0, now.timeIntervalSince(updated))
        tokens = min(Double(limitPerMinute), tokens + elapsed * Double(limitPerMinute) / 60)
        updated = max(updated, now)
    }

    /// Puts back calls taken but not spent.
    public mutating func giveBack(_ calls: Int, limitPerMinute: Int) {
        tokens = min(Double(limitPerMinute), tokens + Double(calls))
    }

    /// Takes as many whole calls as it holds, up to `count`.
    /// - Returns: how many it took.
    public mutating func take(upTo count: Int) -> Int {
        let taken = min(count, Int(tokens.rounded(.down)))
        guard taken > 0 else { return 0 }
        tokens -= Double(taken)
        return taken
    }

    /// The whole seconds until the bucket holds one call again, at least one.
    public func wait(limitPerMinute: Int) -> Int {
        max(1, Int(((1 - tokens) / (Double(limitPerMinute) / 60)).rounded(.up)))
    }
}

/// Token buckets kept where every replica sharing a database reads them.
///
/// A store several processes use conforms, and ``ControlPlane`` then limits keys across all of them.
public protocol RateLimitLedger: Sendable {
    /// In one step: refills the key's bucket to `now` (a full one when it has none yet), puts back `returning`
    /// unspent calls, and takes up to `wanted` whole calls.
    /// - Returns: how many calls were taken, and the bucket as left.
    func lease(keyID: String, limitPerMinute: Int, wanted: Int, returning: Int, at now: Date) async throws
        -> (taken: Int, bucket: TokenBucket)
}
