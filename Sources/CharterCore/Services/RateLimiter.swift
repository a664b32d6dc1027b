public import Foundation
import Synchronization

/// Per-key token buckets: a key with a limit of N per minute may burst N calls, refilled evenly.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private let buckets = Mutex<[String: Bucket]>([:])

    public init() {}

    /// Takes one call from `keyID`'s bucket.
    /// - Returns: nil when allowed, or the whole seconds to wait before retrying.
    public func take(keyID: String, limitPerMinute: Int, at now: Date) -> Int? {
        let capacity = Double(limitPerMinute)
        let perSecond = capacity / 60
        return buckets.withLock { buckets in
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
