import Synchronization

/// Collects audit events that change no other state (denied requests) and stores them in batches.
///
/// Denials are recorded off the request path, so a flood of bad requests costs one write per batch,
/// not one per request. ``flush(to:)`` runs on a timer and once more at shutdown.
public final class AuditWriter: Sendable {
    private let queue = Mutex<[AuditEvent]>([])
    private let limit: Int

    /// - Parameter limit: events kept while the store is unreachable; beyond it the oldest are dropped.
    public init(limit: Int = 100_000) { self.limit = limit }

    /// Queues an event.
    public func enqueue(_ event: AuditEvent) {
        queue.withLock { queue in
            if queue.count >= limit { queue.removeFirst(queue.count - limit + 1) }
            queue.append(event)
        }
    }

    /// Stores everything queued; on failure the events stay queued for the next try.
    public func flush(to store: any Store) async throws {
        let batch = queue.withLock { queue in
            defer { queue = [] }
            return queue
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.appendAudit(batch)
        } catch {
            queue.withLock { $0.insert(contentsOf: batch, at: 0) }
            throw error
        }
    }
}
