import Synchronization
import Testing

@testable import CharterCore

/// Group commit: callers arriving while a batch is written share the next write, and each gets its own outcome.
@Suite struct GroupCommitTests {
    /// Holds the first write until released, so the callers that arrive meanwhile must queue.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
        func wait() async {
            await withCheckedContinuation { continuation in
                let open = state.withLock { state in
                    if !state.open { state.waiters.append(continuation) }
                    return state.open
                }
                if open { continuation.resume() }
            }
        }
        func open() {
            let waiters = state.withLock { state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    @Test func callersArrivingDuringAWriteShareTheNextOne() async throws {
        let gate = Gate()
        let batches = Mutex<[[Int]]>([])
        let commit = GroupCommit<Int, Int> { items in
            batches.withLock { $0.append(items) }
            await gate.wait()
            return items.map { $0 * 10 }
        }
        async let first = commit.commit(0)
        // Wait until the first write has started and holds the gate.
        while batches.withLock({ $0.isEmpty }) { await Task.yield() }
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for item in 1...50 { group.addTask { (item, try await commit.commit(item)) } }
            // Let every caller queue before the first write finishes.
            while commit.waiting < 50 { try await Task.sleep(for: .milliseconds(1)) }
            gate.open()
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(try await first == 0)
        #expect(outcomes.count == 50)
        #expect(outcomes.allSatisfy { $0.value == $0.key * 10 })
        let written = batches.withLock { $0 }
        #expect(written.first == [0])
        #expect(written.count == 2, "50 callers queued behind one write share one batch: \(written.map(\.count))")
        #expect(Set(written.joined()) == Set(0...50))
    }

    struct Boom: Error {}

    @Test func aFailedWriteFailsEveryCallerInItsBatchAndTheNextBatchStillRuns() async throws {
        let failNext = Mutex(true)
        let commit = GroupCommit<Int, Int> { items in
            let fail = failNext.withLock { fail in
                defer { fail = false }
                return fail
            }
            if fail { throw Boom() }
            return items
        }
        await #expect(throws: Boom.self) { try await commit.commit(1) }
        #expect(try await commit.commit(2) == 2)
    }
}
