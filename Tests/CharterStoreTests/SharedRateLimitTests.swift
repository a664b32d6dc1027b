import CharterCore
import CharterPostgres
import CharterTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// Per-key rate limits across two replicas on one PostgreSQL database: the limit holds in total, and calls
/// are leased from the shared bucket in slices, not written one by one. Time is passed in, never waited for.
@Suite(.enabled(if: TestPostgres.isAvailable, "needs the PostgreSQL server `make test` starts"))
struct SharedRateLimitTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// The real ledger, counting how often a replica went to it.
    final class CountingLedger: RateLimitLedger {
        let base: PostgresStore
        private let count = Atomic(0)
        init(_ base: PostgresStore) { self.base = base }
        var leases: Int { count.load(ordering: .relaxed) }

        func lease(keyID: String, limitPerMinute: Int, wanted: Int, returning: Int, at now: Date) async throws
            -> (taken: Int, bucket: TokenBucket)
        {
            count.add(1, ordering: .relaxed)
            return try await base.lease(
                keyID: keyID, limitPerMinute: limitPerMinute, wanted: wanted, returning: returning, at: now)
        }
    }

    /// Two replicas, each with its own store (connection pool) on one fresh database.
    struct Replicas {
        let database: String
        let stores: [PostgresStore]
        let ledgers: [CountingLedger]
        let limiters: [RateLimiter]

        init() async throws {
            database = try await TestPostgres.freshDatabase()
            let url = try PostgresURL(database)
            var stores: [PostgresStore] = []
            for _ in 0..<2 { stores.append(try await PostgresStore.connect(url: url, logger: Logger(label: "test"))) }
            self.stores = stores
            ledgers = stores.map(CountingLedger.init)
            limiters = ledgers.map { RateLimiter(ledger: $0) }
        }

        /// Runs `body` on two fresh replicas of a migrated database, their stores' services running.
        static func with(_ body: (Replicas) async throws -> Void) async throws {
            let replicas = try await Replicas()
            try await replicas.stores[0].withServices {
                try await replicas.stores[1].withServices {
                    try await replicas.stores[0].migrate()
                    try await body(replicas)
                }
            }
        }

        /// Calls through both replicas in turn, `calls` in all, at `second`; returns how many were allowed by
        /// each, and the waits of the refused.
        func hammer(_ key: String, limit: Int, calls: Int, at second: Double) async -> (allowed: [Int], waits: Set<Int>)
        {
            var allowed = [0, 0]
            var waits = Set<Int>()
            let time = SharedRateLimitTests.start.addingTimeInterval(second)
            for call in 0..<calls {
                if let wait = await limiters[call % 2].take(keyID: key, limitPerMinute: limit, at: time) {
                    waits.insert(wait)
                } else {
                    allowed[call % 2] += 1
                }
            }
            return (allowed, waits)
        }
    }

    @Test func aKeysLimitHoldsInTotalAcrossReplicasWithFewWrites() async throws {
        try await Replicas.with { replicas in
            let burst = await replicas.hammer("key_1", limit: 60, calls: 300, at: 0)
            #expect(burst.allowed.reduce(0, +) == 60, "the burst of one bucket, not one per replica: \(burst.allowed)")
            #expect(burst.allowed.allSatisfy { $0 > 0 }, "both replicas served: \(burst.allowed)")
            #expect(burst.waits == [1], "refused with the time one call takes to refill")
            let slice = RateLimiter.slice(of: 60)
            let leases = replicas.ledgers.map(\.leases).reduce(0, +)
            #expect(
                leases <= 60 / slice + 2, "a write per slice of \(slice) calls, and one refusal per replica: \(leases)")

            let refill = await replicas.hammer("key_1", limit: 60, calls: 300, at: 30)
            #expect(refill.allowed.reduce(0, +) == 30, "half a minute refills half the limit: \(refill.allowed)")
            let other = await replicas.hammer("key_2", limit: 60, calls: 100, at: 30)
            #expect(other.allowed.reduce(0, +) == 60, "each key has its own bucket")
        }
    }

    @Test func aRefusedKeyIsRefusedLocallyUntilItsBucketRefills() async throws {
        try await Replicas.with { replicas in
            _ = await replicas.hammer("key_1", limit: 6, calls: 20, at: 0)
            let before = replicas.ledgers.map(\.leases)
            let flood = await replicas.hammer("key_1", limit: 6, calls: 1_000, at: 5)
            #expect(flood.allowed == [0, 0] && flood.waits == [5])
            #expect(replicas.ledgers.map(\.leases) == before, "a flood over the limit writes nothing")
            let later = await replicas.hammer("key_1", limit: 6, calls: 20, at: 10)
            #expect(later.allowed.reduce(0, +) == 1, "ten seconds refill one call of six a minute: \(later.allowed)")
        }
    }

    @Test func unspentCallsOfAnExpiredLeaseGoBackToTheBucket() async throws {
        try await Replicas.with { replicas in
            let (a, b) = (replicas.limiters[0], replicas.limiters[1])
            let slice = RateLimiter.slice(of: 60)
            #expect(await a.take(keyID: "key_1", limitPerMinute: 60, at: Self.start) == nil)
            var onB = 0
            for _ in 0..<100 where await b.take(keyID: "key_1", limitPerMinute: 60, at: Self.start) == nil { onB += 1 }
            #expect(onB == 60 - slice, "A holds the rest of its slice")

            // A's lease has expired: its next call hands back its unspent calls and leases anew.
            let later = Self.start.addingTimeInterval(RateLimiter.leaseLifetime + 1)
            #expect(await a.take(keyID: "key_1", limitPerMinute: 60, at: later) == nil)
            var onBLater = 0
            for _ in 0..<100 where await b.take(keyID: "key_1", limitPerMinute: 60, at: later) == nil { onBLater += 1 }
            let refilled = Int(RateLimiter.leaseLifetime + 1)
            #expect(onBLater == refilled + (slice - 1) - slice, "refill, plus what A gave back, less A's new slice")
        }
    }

    @Test func aFailingLedgerLeavesEachReplicaLimitingAloneAndIsAskedAgainLater() async throws {
        try await Replicas.with { replicas in
            // A real failure: the ledger's table is gone.
            _ = try await TestPostgres.scalar(replicas.database, "DROP TABLE rate_limit_buckets")
            let alone = await replicas.hammer("key_1", limit: 6, calls: 40, at: 0)
            #expect(alone.allowed == [6, 6], "each replica keeps the limit on its own")
            #expect(replicas.ledgers.map(\.leases) == [1, 1], "one failed ask each, not one per call")
            _ = await replicas.hammer("key_1", limit: 6, calls: 2, at: RateLimiter.ledgerRetry)
            #expect(replicas.ledgers.map(\.leases) == [2, 2], "asked again once the retry time has passed")
        }
    }
}
