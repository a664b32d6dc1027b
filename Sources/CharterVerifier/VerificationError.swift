public import UCAN

/// Why a token was refused: a stable code and a message that is safe to log and to return.
///
/// Messages name DIDs, CIDs, envelope ids and fields, never a token's text.
public struct VerificationError: CodedError {
    /// A stable, machine-readable failure class (snake_case).
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The snake_case code, as the middleware's JSON and `charter verify` print it.
        public let rawValue: String
        /// Wraps a code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The raw value.
        public var description: String { rawValue }

        /// The token or a proof is not a well-formed UCAN, or no token was presented.
        public static let malformed = Code(rawValue: "malformed")
        /// A signature on the chain does not verify.
        public static let badSignature = Code(rawValue: "bad_signature")
        /// The chain's root is not signed by a trusted Charter issuer, or that issuer's window has closed.
        public static let untrustedIssuer = Code(rawValue: "untrusted_issuer")
        /// The outermost token (or the invocation) is addressed to someone else.
        public static let wrongAudience = Code(rawValue: "wrong_audience")
        /// A token on the chain has expired.
        public static let expired = Code(rawValue: "expired")
        /// A token on the chain is not valid yet.
        public static let notYetValid = Code(rawValue: "not_yet_valid")
        /// A token on the chain, or the envelope its root was minted under, is revoked.
        public static let revoked = Code(rawValue: "revoked")
        /// The token does not grant the capability the caller requires, or the invocation is for another command.
        public static let notCovered = Code(rawValue: "not_covered")
        /// The delegation chain is broken: a missing proof, a widening, a window outside its proof's, a cycle.
        public static let invalidChain = Code(rawValue: "invalid_chain")
        /// A UCAN 1.0 invocation's arguments break a policy on its chain; the message names the statement.
        public static let policyViolation = Code(rawValue: "policy_violation")
        /// A UCAN 1.0 invocation was presented before: each may be used once.
        public static let replayed = Code(rawValue: "replayed")
        /// Every slot of the replay cache holds an invocation that has not expired: refusing until some do.
        public static let overloaded = Code(rawValue: "overloaded")
        /// The last successful sync is older than the configured maximum: failing closed.
        public static let feedStale = Code(rawValue: "feed_stale")
        /// The verifier has not synced successfully yet: failing closed.
        public static let notSynced = Code(rawValue: "not_synced")
    }

    /// The failure class.
    public let code: Code
    /// A human-readable explanation that contains no secret.
    public let message: String
    /// The token field at fault (the chain's, such as `prf[0].exp`), when the failure names one.
    public let field: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// One line: the code, then the message, such as `revoked: envelope env_… is revoked`.
    public var description: String { "\(code.rawValue): \(message)" }
}
