/// A failure of a cryptographic primitive: wrong input sizes or an authentication failure.
///
/// Its description names the problem and never the secret material involved.
public struct CryptoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in a sentence safe to log.
    public let reason: String

    package init(_ reason: String) { self.reason = reason }

    public var description: String { "crypto error: \(reason)" }

    static func badLength(_ what: String, expected: Int, got: Int) -> Self {
        CryptoError("\(what) must be \(expected) bytes, got \(got)")
    }
}
