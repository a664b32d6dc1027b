import CharterCore
import Foundation
import Testing

@Suite struct RateLimiterTests {
    static let start = Date(timeIntervalSince1970: 1_000_000)

    @Test func aBucketAllowsItsBurstThenRefillsEvenly() async {
        let limiter = RateLimiter()
        for _ in 0..<60 { #expect(await limiter.take(keyID: "k", limitPerMinute: 60, at: Self.start) == nil) }
        #expect(await limiter.take(keyID: "k", limitPerMinute: 60, at: Self.start) == 1)
        #expect(await limiter.take(keyID: "k", limitPerMinute: 60, at: Self.start.addingTimeInterval(1)) == nil)
        #expect(await limiter.take(keyID: "other", limitPerMinute: 60, at: Self.start) == nil, "buckets are per key")
        let slow = RateLimiter()
        #expect(await slow.take(keyID: "s", limitPerMinute: 1, at: Self.start) == nil)
        #expect(await slow.take(keyID: "s", limitPerMinute: 1, at: Self.start) == 60)
    }

    @Test func waitingTakesNothing() {
        let buckets = TokenBuckets()
        #expect(buckets.wait(for: "ip", limitPerMinute: 2, at: Self.start) == nil)
        #expect(buckets.take("ip", limitPerMinute: 2, at: Self.start) == nil)
        #expect(buckets.wait(for: "ip", limitPerMinute: 2, at: Self.start) == nil)
        #expect(buckets.take("ip", limitPerMinute: 2, at: Self.start) == nil)
        #expect(buckets.wait(for: "ip", limitPerMinute: 2, at: Self.start) == 30)
        #expect(buckets.take("ip", limitPerMinute: 2, at: Self.start.addingTimeInterval(30)) == nil)
    }

    @Test func aBucketNeverHoldsMoreThanItsLimitNorRefillsBackwards() {
        var bucket = TokenBucket(full: 10, at: Self.start)
        #expect(bucket.take(upTo: 4) == 4)
        bucket.giveBack(100, limitPerMinute: 10)
        #expect(bucket.tokens == 10, "what is given back is capped at the limit")
        #expect(bucket.take(upTo: 25) == 10)
        bucket.refill(to: Self.start.addingTimeInterval(-60), limitPerMinute: 10)
        #expect(bucket.tokens == 0 && bucket.updated == Self.start, "a clock behind refills nothing")
        bucket.refill(to: Self.start.addingTimeInterval(9), limitPerMinute: 10)
        #expect(bucket.take(upTo: 5) == 1, "one call per six seconds")
        #expect(bucket.wait(limitPerMinute: 10) == 3)
    }

    @Test func usageIsMergedUntilFlushed() {
        let usage = UsageTracker()
        let time = Date(timeIntervalSince1970: 5)
        for _ in 0..<7 { usage.counter(keyID: "a").record(at: time) }
        usage.counter(keyID: "a").record(at: time.addingTimeInterval(-3))
        #expect(usage.unflushed(keyID: "a")?.count == 8)
        #expect(usage.unflushed(keyID: "a")?.lastUsedAt == time, "the latest call's time, whatever the order")
        #expect(usage.unflushed(keyID: "b") == nil)
    }
}
