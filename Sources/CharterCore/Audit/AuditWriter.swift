public import Foundation
import Synchronization

/// Collects audit events that change no other state (denied requests) and stores them in batches.
///
/// Denials are recorded off the request path, so a flood of bad requests costs one write per batch,
/// not one per request; refusals of callers nobody could identify are folded further, into one record per
/// address per minute (``DenialSummaries``). ``flush(to:at:)`` runs on a timer and once more at shutdown.
public final class AuditWriter: Sendable {
    private struct State: Sendable {
        var queue: [AuditEvent] = []
        var summaries: DenialSummaries

        /// Appends, dropping the oldest events beyond `limit`.
        mutating func append(_ events: [AuditEvent], limit: Int) {
            let overflow = queue.count + events.count - limit
            if overflow > 0 { queue.removeFirst(min(overflow, queue.count)) }
            queue.append(contentsOf: events.suffix(limit))
        }
    }

    private let state: Mutex<State>
    private let limit: Int

    /// - Parameters:
    ///   - limit: events kept while the store is unreachable; beyond it the oldest are dropped.
    ///   - addressesPerMinute: distinct addresses whose anonymous refusals are tallied apart each minute.
    public init(limit: Int = 100_000, addressesPerMinute: Int = 1_000) {
        self.limit = limit
        state = Mutex(State(summaries: DenialSummaries(addressLimit: addressesPerMinute)))
    }

    /// Queues an event.
    public func enqueue(_ event: AuditEvent) {
        state.withLock { $0.append([event], limit: limit) }
    }

    /// Counts a refusal of a caller that could not be identified into its address's summary for the minute.
    /// - Parameters:
    ///   - reason: the error code it was refused with.
    ///   - ip: the client address, when known.
    ///   - time: when, by the services' clock: the minute it falls in is the summary it counts in.
    public func summarizeDenial(reason: String, ip: String?, at time: Date) {
        state.withLock { state in
            let closed = state.summaries.add(reason: reason, ip: ip, at: time)
            if !closed.isEmpty { state.append(closed, limit: limit) }
        }
    }

    /// Stores everything queued, with the summaries of every minute that has ended; on failure the events
    /// stay queued for the next try.
    /// - Parameter now: the current time, by the services' clock: the summaries of its minute stay open to go
    ///   on counting. Nil (at shutdown) stores them too.
    public func flush(to store: any AuditStore, at now: Date? = nil) async throws {
        let batch = state.withLock { state in
            let closed = state.summaries.close(endedBy: now)
            if !closed.isEmpty { state.append(closed, limit: limit) }
            defer { state.queue = [] }
            return state.queue
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.appendAudit(batch)
        } catch {
            state.withLock { $0.queue.insert(contentsOf: batch, at: 0) }
            throw error
        }
    }
}
