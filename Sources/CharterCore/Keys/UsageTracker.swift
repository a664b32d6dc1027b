public import Foundation
import Synchronization

/// Counts key usage in memory so authentication never writes; ``BackgroundFlusher`` stores it in batches.
///
/// Each key has one ``Counter``, which its cached ``Identity`` holds, so counting a call is two atomic
/// operations on that counter rather than a lock and a dictionary lookup by key id on every request.
public final class UsageTracker: Sendable {
    /// One key's calls since the last flush.
    public final class Counter: Sendable {
        private let count = Atomic<Int64>(0)
        /// The latest call's `timeIntervalSince1970`, as its bit pattern; 0 when there was none.
        private let lastUsed = Atomic<UInt64>(0)

        init() {}

        /// Counts one call at `time`.
        public func record(at time: Date) {
            // The time first: whoever takes the count then reads a time at least as late as every call counted.
            raiseLastUsed(to: time)
            count.add(1, ordering: .releasing)
        }

        /// Calls counted and not yet stored.
        public var unflushed: KeyUsage? {
            let count = count.load(ordering: .acquiring)
            guard count > 0 else { return nil }
            return KeyUsage(count: count, lastUsedAt: lastUsedAt)
        }

        /// Takes what was counted, leaving the counter at zero.
        fileprivate func take() -> KeyUsage? {
            let count = count.exchange(0, ordering: .acquiringAndReleasing)
            guard count > 0 else { return nil }
            return KeyUsage(count: count, lastUsedAt: lastUsedAt)
        }

        /// Puts back usage that could not be stored.
        fileprivate func restore(_ usage: KeyUsage) {
            raiseLastUsed(to: usage.lastUsedAt)
            count.add(usage.count, ordering: .releasing)
        }

        fileprivate var isIdle: Bool { count.load(ordering: .relaxed) == 0 }

        private var lastUsedAt: Date {
            Date(timeIntervalSince1970: Double(bitPattern: lastUsed.load(ordering: .relaxed)))
        }

        private func raiseLastUsed(to time: Date) {
            let desired = time.timeIntervalSince1970
            var current = lastUsed.load(ordering: .relaxed)
            while current == 0 || Double(bitPattern: current) < desired {
                let (exchanged, original) = lastUsed.compareExchange(
                    expected: current, desired: desired.bitPattern, ordering: .relaxed)
                if exchanged { return }
                current = original
            }
        }
    }

    private let counters = Mutex<[String: Counter]>([:])

    public init() {}

    /// The counter of `keyID`, created on first use.
    public func counter(keyID: String) -> Counter {
        counters.withLock { counters in
            if let existing = counters[keyID] { return existing }
            let created = Counter()
            counters[keyID] = created
            return created
        }
    }

    /// Usage counted but not yet stored for `keyID`.
    public func unflushed(keyID: String) -> KeyUsage? {
        counters.withLock { $0[keyID] }?.unflushed
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
    public func flush(to store: any KeyStore) async throws -> [String: KeyUsage] {
        let batch = counters.withLock { counters in
            var batch: [String: KeyUsage] = [:]
            for (keyID, counter) in counters {
                if let usage = counter.take() { batch[keyID] = usage }
            }
            // A counter only this table holds belongs to no cached identity and no request, so nothing can
            // count on it any more: drop it, or keys used once would be kept for the life of the process.
            let idle = counters.values.indices.filter { index in
                counters.values[index].isIdle && isKnownUniquelyReferenced(&counters.values[index])
            }
            for keyID in idle.map({ counters.keys[$0] }) { counters.removeValue(forKey: keyID) }
            return batch
        }
        guard !batch.isEmpty else { return [:] }
        do {
            try await store.recordUsage(batch)
            return batch
        } catch {
            for (keyID, usage) in batch { counter(keyID: keyID).restore(usage) }
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
