/// The one shape every error Charter reports has, as jwt-kit's `JWTError` gives JWT failures one: a stable,
/// machine-readable code, a message safe to log and to return, and the field concerned when there is one.
///
/// ``UCANError``, `CharterError`, `VerificationError` and `CharterClientError` conform, so code that handles
/// one handles them all alike (the JSON error bodies, the CLI's `error: <code>: <message>` line). None of them
/// ever carries a key, a token's text or another secret.
public protocol CodedError: Error, Sendable, Hashable, CustomStringConvertible {
    associatedtype Code: RawRepresentable<String>, Sendable, Hashable
    /// The failure class, stable across releases.
    var code: Code { get }
    /// A sentence safe to show a client and to log.
    var message: String { get }
    /// The request or token field at fault, such as `ttl_seconds` or `prf[0].exp`; nil when none is meant.
    var field: String? { get }
}

extension CodedError {
    /// The code as text, as it appears on the wire.
    public var codeName: String { code.rawValue }
}
