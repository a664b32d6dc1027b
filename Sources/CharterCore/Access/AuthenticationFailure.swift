/// A refused authentication, with the key when it was identified, so the denial is audited under it.
public struct AuthenticationFailure: Error, Sendable {
    public let error: CharterError
    /// The presented key, when it exists (revoked, expired, wrong IP, over its rate).
    public let key: APIKey?

    public init(_ error: CharterError, key: APIKey? = nil) {
        self.error = error
        self.key = key
    }
}
