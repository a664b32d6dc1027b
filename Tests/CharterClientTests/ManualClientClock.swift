import CharterClient
import CharterCore
import Foundation
import Synchronization

/// A clock the test moves by hand, for the client and the server alike: sleepers wake when it passes their
/// deadline, and a test can wait for the next task to go to sleep instead of polling.
final class ManualClientClock: ClientClock {
    private struct Sleeper {
        let id: Int
        let deadline: Date
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var nextID = 0
        var sleepers: [Sleeper] = []
        var deadlines: [Date] = []
        var watchers: [(after: Date, continuation: CheckedContinuation<Date, Never>)] = []
    }

    private let state: Mutex<State>

    init(_ start: Date) { state = Mutex(State(now: start)) }

    func now() -> Date { state.withLock { $0.now } }

    /// The same time, as the server's services read it.
    var charterClock: CharterClock { CharterClock { [self] in now() } }

    func sleep(until deadline: Date) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled { return continuation.resume(throwing: CancellationError()) }
                let resumed = state.withLock { state -> [CheckedContinuation<Date, Never>] in
                    state.deadlines.append(deadline)
                    guard deadline > state.now else { return [] }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    let (due, waiting) = state.watchers.split { $0.after < deadline }
                    state.watchers = waiting
                    return due.map(\.continuation)
                }
                for watcher in resumed { watcher.resume(returning: deadline) }
                if deadline <= now() { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state in
                state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0) }
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on by `seconds`, waking every sleeper whose deadline has come.
    func advance(_ seconds: TimeInterval) {
        let woken = state.withLock { state in
            state.now += seconds
            let now = state.now
            let (due, waiting) = state.sleepers.split { $0.deadline <= now }
            state.sleepers = waiting
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// The deadline of the first sleep begun with a deadline after `date`, waiting for one if there is none yet.
    func sleep(after date: Date) async -> Date {
        await withCheckedContinuation { continuation in
            let found = state.withLock { state -> Date? in
                if let deadline = state.deadlines.first(where: { $0 > date }) { return deadline }
                state.watchers.append((date, continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }
}

extension Array {
    /// The elements that satisfy `isIncluded`, and the rest, each in order.
    fileprivate func split(_ isIncluded: (Element) -> Bool) -> ([Element], [Element]) {
        (filter(isIncluded), filter { !isIncluded($0) })
    }
}
