public import Foundation
import Synchronization

/// Per-key token buckets: a key with a limit of N per minute may burst N calls, refilled evenly.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private let buckets = Mutex<[String: Bucket]>([:])

    static let maximumBuckets = 100_000

    public init() {}

    /// The whole seconds `keyID` must wait before its next call, without taking one; nil when it may call now.
    public func wait(for keyID: String, limitPerMinute: Int, at now: Date) -> Int? {
        let perSecond = Double(limitPerMinute) / 60
        return buckets.withLock { buckets in
            guard let bucket = buckets[keyID] else { return nil }
            let tokens = min(
                Double(limitPerMinute), bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * perSecond)
            return tokens >= 1 ? nil : max(1, Int(((1 - tokens) / perSecond).rounded(.up)))
        }
    }

    /// Takes one call from `keyID`'s bucket.
    /// - Returns: nil when allowed, or the whole seconds to wait before retrying.
    public func take(keyID: String, limitPerMinute: Int, at now: Date) -> Int? {
        let capacity = Double(limitPerMinute)
        let perSecond = capacity / 60
        return buckets.withLock { buckets in
            // A flood of distinct keys (addresses, for failed attempts) must not grow memory without bound:
            // full buckets carry no information, so they are the ones dropped.
            if buckets[keyID] == nil, buckets.count >= Self.maximumBuckets {
                buckets = buckets.filter {
                    $0.value.tokens + max(0, now.timeIntervalSince($0.value.updated)) * perSecond < capacity
                }
                if buckets.count >= Self.maximumBuckets { buckets.removeAll() }
            }
            var bucket = buckets[keyID] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(capacity, bucket.tokens + elapsed * perSecond)
            bucket.updated = now
            defer { buckets[keyID] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}
