import CharterCore
import Foundation
import Testing

@Suite struct RateLimiterTests {
    @Test func aBucketAllowsItsBurstThenRefillsEvenly() {
        let limiter = RateLimiter()
        let start = Date(timeIntervalSince1970: 1_000_000)
        for _ in 0..<60 { #expect(limiter.take(keyID: "k", limitPerMinute: 60, at: start) == nil) }
        #expect(limiter.take(keyID: "k", limitPerMinute: 60, at: start) == 1)
        #expect(limiter.take(keyID: "k", limitPerMinute: 60, at: start.addingTimeInterval(1)) == nil)
        #expect(limiter.take(keyID: "other", limitPerMinute: 60, at: start) == nil, "buckets are per key")
        let slow = RateLimiter()
        #expect(slow.take(keyID: "s", limitPerMinute: 1, at: start) == nil)
        #expect(slow.take(keyID: "s", limitPerMinute: 1, at: start) == 60)
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
