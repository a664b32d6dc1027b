public import Foundation

/// Where a ``CharterClient`` reads the time and waits: for refreshes and retry backoff. Tests give one they
/// move by hand, so a token's lifetime passes without waiting it out.
public protocol ClientClock: Sendable {
    /// The current wall-clock time, which tokens' `exp` is compared with.
    func now() -> Date
    /// Returns once `now()` has reached `deadline`.
    /// - Throws: `CancellationError` when the waiting task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The system's clock.
public struct SystemClientClock: ClientClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up)))) }
    }
}

extension ClientClock where Self == SystemClientClock {
    public static var system: SystemClientClock { SystemClientClock() }
}
