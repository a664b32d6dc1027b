public import Foundation
import Synchronization

/// Counts key usage in memory so authentication never writes; a ``UsageFlusher`` stores it in batches.
public final class UsageTracker: Sendable {
    private let pending = Mutex<[String: KeyUsage]>([:])

    public init() {}

    /// Counts one call by `keyID` at `time`.
    public func record(keyID: String, at time: Date) {
        pending.withLock { usage in
            if var entry = usage[keyID] {
                entry.count += 1
                entry.lastUsedAt = max(entry.lastUsedAt, time)
                usage[keyID] = entry
            } else {
                usage[keyID] = KeyUsage(count: 1, lastUsedAt: time)
            }
        }
    }

    /// Usage counted but not yet stored for `keyID`.
    public func unflushed(keyID: String) -> KeyUsage? {
        pending.withLock { $0[keyID] }
    }

    /// `key` with its unflushed usage added, so reads are exact between flushes.
    public func current(_ key: APIKey) -> APIKey {
        guard let extra = unflushed(keyID: key.id) else { return key }
        var key = key
        (key.usageCount, key.lastUsedAt) = key.usage(adding: extra)
        return key
    }

    /// Stores everything pending in one batch; on failure the counts are kept for the next try.
    /// - Returns: what was written, per key id.
    @discardableResult
    public func flush(to store: any Store) async throws -> [String: KeyUsage] {
        let batch = pending.withLock { usage in
            defer { usage = [:] }
            return usage
        }
        guard !batch.isEmpty else { return [:] }
        do {
            try await store.recordUsage(batch)
            return batch
        } catch {
            pending.withLock { usage in
                for (keyID, entry) in batch {
                    if var current = usage[keyID] {
                        current.count += entry.count
                        current.lastUsedAt = max(current.lastUsedAt, entry.lastUsedAt)
                        usage[keyID] = current
                    } else {
                        usage[keyID] = entry
                    }
                }
            }
            throw error
        }
    }
}

extension APIKey {
    /// The key's stored usage with `extra`, counted since, added.
    public func usage(adding extra: KeyUsage) -> (count: Int64, lastUsedAt: Date) {
        (usageCount + extra.count, max(lastUsedAt ?? extra.lastUsedAt, extra.lastUsedAt))
    }
}
