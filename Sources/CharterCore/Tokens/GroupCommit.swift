import Synchronization

/// Commits items in batches while each caller still waits for its own item to be durable.
///
/// The first caller to arrive while no batch is being written starts a writer; everyone arriving while
/// that write runs joins the next batch. Under load one transaction (and one fsync) serves many callers;
/// alone, a caller pays for exactly one write and no timer.
package final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    private typealias Waiter = CheckedContinuation<Outcome, any Error>

    private struct State {
        var pending: [(item: Item, waiter: Waiter)] = []
        var writing = false
    }

    private let state = Mutex(State())
    private let maxBatch: Int
    private let write: @Sendable ([Item]) async throws -> [Outcome]

    /// - Parameter write: stores a batch and returns one outcome per item, in order.
    package init(maxBatch: Int = 256, write: @escaping @Sendable ([Item]) async throws -> [Outcome]) {
        self.maxBatch = maxBatch
        self.write = write
    }

    /// Callers waiting for the next batch.
    var waiting: Int { state.withLock { $0.pending.count } }

    /// Returns once `item` has been written, with its outcome; throws what the batch's write threw.
    package func commit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { waiter in
            let startWriter = state.withLock { state in
                state.pending.append((item, waiter))
                defer { state.writing = true }
                return !state.writing
            }
            if startWriter { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [(item: Item, waiter: Waiter)] in
                let batch = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let outcomes = try await write(batch.map(\.item))
                precondition(outcomes.count == batch.count, "a group commit must answer every item")
                for (entry, outcome) in zip(batch, outcomes) { entry.waiter.resume(returning: outcome) }
            } catch {
                for entry in batch { entry.waiter.resume(throwing: error) }
            }
        }
    }
}
