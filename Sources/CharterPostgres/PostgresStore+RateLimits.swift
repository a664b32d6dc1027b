public import CharterCore
import CharterStorage
public import Foundation
import PostgresNIO

/// Every replica's rate limits come out of one bucket per key, in `rate_limit_buckets`.
extension PostgresStore: RateLimitLedger {
    /// One short transaction per slice of calls, locking only the key's own row (never the write lock).
    public func lease(keyID: String, limitPerMinute: Int, wanted: Int, returning: Int, at now: Date) async throws
        -> (taken: Int, bucket: TokenBucket)
    {
        try await transaction { connection in
            // Creates the key's full bucket, or locks the one there, and reads it back either way.
            let rows = try await connection.query(
                """
                INSERT INTO rate_limit_buckets (key_id, tokens, updated_at)
                VALUES (\(keyID), \(Double(limitPerMinute)), \(StoredValue.time(now)))
                ON CONFLICT (key_id) DO UPDATE SET key_id = EXCLUDED.key_id
                RETURNING tokens, updated_at
                """, logger: logger
            ).decode((Double, Int64).self)
            var stored: (Double, Int64)?
            for try await row in rows { stored = row }
            guard let (tokens, updated) = stored else { throw CorruptRow("rate_limit_buckets") }
            var bucket = TokenBucket(tokens: tokens, updated: StoredValue.date(updated))
            bucket.refill(to: now, limitPerMinute: limitPerMinute)
            bucket.giveBack(returning, limitPerMinute: limitPerMinute)
            let taken = bucket.take(upTo: wanted)
            try await connection.query(
                """
                UPDATE rate_limit_buckets SET tokens = \(bucket.tokens), updated_at = \(StoredValue.time(bucket.updated))
                WHERE key_id = \(keyID)
                """, logger: logger)
            return (taken, bucket)
        }
    }
}
