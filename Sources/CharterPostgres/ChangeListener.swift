import CharterCore
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Hears, over `LISTEN`, the changes every replica announces with `NOTIFY` in the transaction that makes them,
/// and hands them to the observers, which drop their cached copies.
///
/// PostgreSQL delivers a notification only once its transaction has committed, to every listening session
/// at the same moment. A replica that made a change waits until its own listener has heard it before it
/// answers (``waitForEcho(_:)``), so by the time a client learns that a revocation succeeded, every replica
/// has been told. While the listener is disconnected, missed changes cannot be known, so observers hear
/// ``StoreChange/all`` on each loss and on each reconnection.
final class ChangeListener: Service {
    static let channel = "charter_changes"
    /// How long a change waits for its echo before answering anyway (the listener may be reconnecting).
    static let echoTimeout: Duration = .seconds(2)

    private enum Echo {
        case expected
        case waiting(CheckedContinuation<Void, Never>)
    }

    private struct State {
        var observers: [@Sendable (StoreChange) -> Void] = []
        var echoes: [String: Echo] = [:]
        var listening = false
    }

    private let state = Mutex(State())
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func observe(_ observer: @escaping @Sendable (StoreChange) -> Void) {
        state.withLock { $0.observers.append(observer) }
    }

    /// The text to `NOTIFY` for `change`, and a tag to wait for its echo with.
    ///
    /// Call before the transaction commits, so the echo cannot arrive unexpected.
    func announce(_ change: StoreChange) -> (payload: String, tag: String) {
        let tag = UUID().uuidString
        state.withLock { $0.echoes[tag] = .expected }
        let subject =
            switch change {
            case .key(let id): "key \(id)"
            case .envelopes(let appID): "envelopes \(appID)"
            case .signingKeys: "signing-keys -"
            case .all: "all -"
            }
        return ("\(subject) \(tag)", tag)
    }

    /// Forgets an announcement whose transaction rolled back.
    func withdraw(_ tag: String) {
        _ = state.withLock { $0.echoes.removeValue(forKey: tag) }
    }

    /// Returns once this process's listener has heard `tag`, or at once when it is not listening, or after
    /// ``echoTimeout``.
    func waitForEcho(_ tag: String) async {
        let timeout = Task {
            try? await Task.sleep(for: Self.echoTimeout)
            self.heard(tag)
        }
        defer { timeout.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                guard state.listening, case .expected = state.echoes[tag] else {
                    state.echoes[tag] = nil
                    return true
                }
                state.echoes[tag] = .waiting(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Listens until cancelled or shut down gracefully, reconnecting a second after each loss.
    func run() async {
        await cancelWhenGracefulShutdown { await self.listenUntilCancelled() }
    }

    private func listenUntilCancelled() async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: 0, logger: logger)
                do {
                    try await listen(on: connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch  where !Task.isCancelled {
                logger.warning(
                    "lost the connection that hears other replicas' changes; caches dropped, reconnecting",
                    metadata: ["error": "\(error)"])
            } catch {}
            stopListening()
            deliver(.all)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func listen(on connection: PostgresConnection) async throws {
        try await connection.listen(on: Self.channel) { notifications in
            state.withLock { $0.listening = true }
            logger.debug("listening for changes from other replicas")
            deliver(.all)
            for try await notification in notifications {
                receive(notification.payload)
            }
        }
    }

    private func stopListening() {
        let waiting = state.withLock { state in
            state.listening = false
            let echoes = state.echoes
            state.echoes = [:]
            return echoes.values
        }
        for case .waiting(let continuation) in waiting { continuation.resume() }
    }

    private func receive(_ payload: String) {
        let parts = payload.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            logger.warning("ignored a change notification of unknown shape")
            return
        }
        let subject = String(parts[1])
        switch parts[0] {
        case "key": deliver(.key(id: subject))
        case "envelopes": deliver(.envelopes(appID: subject))
        case "signing-keys": deliver(.signingKeys)
        case "all": deliver(.all)
        default: logger.warning("ignored a change notification of unknown kind")
        }
        heard(String(parts[2]))
    }

    private func deliver(_ change: StoreChange) {
        for observer in state.withLock({ $0.observers }) { observer(change) }
    }

    private func heard(_ tag: String) {
        let echo = state.withLock { $0.echoes.removeValue(forKey: tag) }
        if case .waiting(let continuation) = echo { continuation.resume() }
    }
}
