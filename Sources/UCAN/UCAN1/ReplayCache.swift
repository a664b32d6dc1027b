import Synchronization

/// The invocations an executor has run, by CID, until they expire: a second presentation is a replay.
///
/// Bounded: entries go once their invocation has expired (an expired invocation is refused anyway), and a cache
/// full of live entries refuses new invocations rather than forget one that could still be replayed.
public final class ReplayCache: Sendable {
    /// What the cache says of an invocation.
    public enum Outcome: Sendable, Hashable {
        /// Not seen before; now remembered until it expires.
        case fresh
        /// Seen before: refuse it.
        case replayed
        /// Every slot holds an invocation that has not expired: refuse until some expire.
        case full
        /// It never expires, so it could not be remembered for as long as it could be replayed: refuse it.
        case unbounded
    }

    private struct State {
        var expiries: [CID: Int64] = [:]
        /// A min-heap of (expiry, CID), so expired entries go in order without a scan.
        var heap: [(expiry: Int64, cid: CID)] = []
    }

    /// The most invocations remembered at once.
    public let capacity: Int
    private let state = Mutex(State())

    /// - Parameter capacity: the most live invocations remembered at once.
    public init(capacity: Int = 100_000) { self.capacity = max(1, capacity) }

    /// The number of invocations remembered.
    public var count: Int { state.withLock { $0.expiries.count } }

    /// Records a validated invocation, unless it was seen before.
    /// - Parameters:
    ///   - cid: the invocation's CID.
    ///   - expiration: its `exp`; nil (never) is refused as ``Outcome/unbounded``.
    ///   - now: the current time, in seconds, by the same clock validation used.
    public func record(_ cid: CID, expiresAt expiration: Int64?, now: Int64) -> Outcome {
        guard let expiration else { return .unbounded }
        return state.withLock { state in
            while let first = state.heap.first, first.expiry < now {
                Self.popMin(&state.heap)
                if state.expiries[first.cid] == first.expiry { state.expiries[first.cid] = nil }
            }
            if state.expiries[cid] != nil { return .replayed }
            guard state.expiries.count < capacity else { return .full }
            state.expiries[cid] = expiration
            Self.push((expiration, cid), &state.heap)
            return .fresh
        }
    }

    /// Records a validated invocation.
    public func record(_ validated: ValidatedInvocation, now: Int64) -> Outcome {
        record(validated.cid, expiresAt: validated.expiration, now: now)
    }

    private static func push(_ entry: (expiry: Int64, cid: CID), _ heap: inout [(expiry: Int64, cid: CID)]) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].expiry < heap[parent].expiry else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private static func popMin(_ heap: inout [(expiry: Int64, cid: CID)]) {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].expiry < heap[smallest].expiry { smallest = left }
            if right < heap.count, heap[right].expiry < heap[smallest].expiry { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
