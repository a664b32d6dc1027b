public import Foundation

/// Where services read the time: millisecond precision, so what is stored reads back identical.
public struct CharterClock: Sendable {
    private let read: @Sendable () -> Date

    /// A clock reading `read`, truncated to milliseconds.
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    /// The system clock.
    public static let system = CharterClock { Date() }

    /// The current time, truncated to whole milliseconds.
    public func now() -> Date {
        Date(timeIntervalSince1970: Double(AuditChain.milliseconds(read())) / 1000)
    }
}
