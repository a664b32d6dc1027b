public import Logging
public import ServiceLifecycle

/// Writes batched usage counts and queued audit events on a timer, and a last time at shutdown; prunes the
/// revocation feed every minute.
public struct BackgroundFlusher: Service {
    private let controlPlane: ControlPlane
    private let interval: Duration
    private let logger: Logger

    public init(controlPlane: ControlPlane, interval: Duration = .seconds(1), logger: Logger) {
        self.controlPlane = controlPlane
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Graceful shutdown cancels the sleep; the flush after the loop then stores what is left.
        try? await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await flushOnce(closingOpenSummaries: false)
                ticks += 1
                if ticks % 60 == 0 { await pruneOnce() }
            }
        }
        await flushOnce()
    }

    /// Drops revocation-feed entries and token records whose tokens have all expired.
    public func pruneOnce() async {
        do {
            try await controlPlane.tokens.prune()
        } catch {
            logger.warning("pruning the revocation feed failed; will retry", metadata: ["error": "\(type(of: error))"])
        }
    }

    /// Flushes both queues once, logging (not throwing) failures so the next tick retries.
    /// - Parameter closingOpenSummaries: whether the current minute's summaries of anonymous refusals are
    ///   written too, as at shutdown; the timer leaves them open to go on counting until their minute ends.
    public func flushOnce(closingOpenSummaries: Bool = true) async {
        do {
            let written = try await controlPlane.usage.flush(to: controlPlane.store)
            controlPlane.authenticator.absorb(flushed: written)
        } catch {
            logger.warning("usage flush failed; will retry", metadata: ["error": "\(type(of: error))"])
        }
        do {
            try await controlPlane.auditWriter.flush(
                to: controlPlane.store, at: closingOpenSummaries ? nil : controlPlane.clock.now())
        } catch {
            logger.warning("audit flush failed; will retry", metadata: ["error": "\(type(of: error))"])
        }
    }
}
