/// Why a token, chain or revocation was refused: a stable code, the field it concerns and a safe message.
///
/// The message names fields and limits but never repeats token contents beyond DIDs and CIDs,
/// so it is safe to log and to return to a client.
public struct UCANError: CodedError {
    /// A stable, machine-readable failure class.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The token is not three base64url segments of JSON.
        public static let malformed = Code(rawValue: "malformed")
        /// A required field is absent.
        public static let missingField = Code(rawValue: "missing_field")
        /// A field has the wrong type or an invalid value.
        public static let invalidField = Code(rawValue: "invalid_field")
        /// `alg` is anything but EdDSA.
        public static let unsupportedAlgorithm = Code(rawValue: "unsupported_algorithm")
        /// The signature does not verify under the issuer's key.
        public static let invalidSignature = Code(rawValue: "invalid_signature")
        /// `exp` has passed.
        public static let expired = Code(rawValue: "expired")
        /// `nbf` is still ahead.
        public static let notYetValid = Code(rawValue: "not_yet_valid")
        /// A token, proof list or chain is over its limit.
        public static let tooLarge = Code(rawValue: "too_large")
        /// A `prf` entry names a token that was not supplied.
        public static let unknownProof = Code(rawValue: "unknown_proof")
        /// A proof's audience is not the issuer of the token that cites it.
        public static let audienceMismatch = Code(rawValue: "audience_mismatch")
        /// A token's time window reaches outside a proof's.
        public static let timeWindowNotNested = Code(rawValue: "time_window_not_nested")
        /// A token's `ucv` is lower than a proof's.
        public static let versionDowngrade = Code(rawValue: "version_downgrade")
        /// A claimed capability is not delegated by any proof.
        public static let capabilityNotDelegated = Code(rawValue: "capability_not_delegated")
        /// A proof refers back to a token already on the path.
        public static let proofCycle = Code(rawValue: "proof_cycle")
        /// The chain is deeper than allowed.
        public static let depthExceeded = Code(rawValue: "depth_exceeded")
        /// The root issuer is not one the verifier trusts.
        public static let untrustedIssuer = Code(rawValue: "untrusted_issuer")
        /// The token is addressed to someone other than this verifier.
        public static let audienceNotAccepted = Code(rawValue: "audience_not_accepted")
        /// The token, or something it depends on, has been revoked.
        public static let revoked = Code(rawValue: "revoked")
        /// A revocation record is malformed, badly signed or from an issuer outside the chain.
        public static let invalidRevocation = Code(rawValue: "invalid_revocation")

        // UCAN 1.0 validation, each with the name the spec's fixtures use (``UCANError/name``).
        /// Principals do not line up: a delegation's `aud` is not the next one's `iss`, the last is not made out
        /// to the invoker, or the invocation is not for this executor.
        public static let invalidAudience = Code(rawValue: "invalid_audience")
        /// A `sub` does not match the invocation's subject, or the root is a powerline or not issued by it.
        public static let invalidSubject = Code(rawValue: "invalid_subject")
        /// A delegation's command does not prove the invoked one.
        public static let invalidClaim = Code(rawValue: "invalid_claim")
        /// A delegation's policy does not hold on the invocation's arguments.
        public static let policyMismatch = Code(rawValue: "policy_mismatch")
        /// The invocation was seen before (a replay), or cannot be remembered long enough to tell.
        public static let replayed = Code(rawValue: "replayed")
    }

    /// The failure class.
    public let code: Code
    /// The field path concerned, such as `exp`, `cap` or `prf[0].aud`; nil when the whole token is meant.
    public let field: String?
    /// A human-readable explanation that contains no secret.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// The name the UCAN 1.0 fixtures give this kind of failure (`InvalidClaim`, `UnavailableProof`, `Expired`,
    /// `TooEarly`, `InvalidAudience`, `InvalidSubject`, `InvalidSignature`, `MatchError`); for the failures they
    /// do not name, the code in the same style (`Malformed`, `InvalidField`, …).
    public var name: String {
        switch code {
        case .invalidSignature: return "InvalidSignature"
        case .expired: return "Expired"
        case .notYetValid: return "TooEarly"
        case .unknownProof: return "UnavailableProof"
        case .invalidAudience: return "InvalidAudience"
        case .invalidSubject: return "InvalidSubject"
        case .invalidClaim: return "InvalidClaim"
        case .policyMismatch: return "MatchError"
        default: return code.rawValue.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
    }

    /// One line: the field, then the message.
    public var description: String {
        field.map { "\($0): \(message)" } ?? message
    }

    /// The same error seen from a token that cites the failing one as proof `index`.
    func inProof(_ index: Int) -> UCANError {
        UCANError(code, field: field.map { "prf[\(index)].\($0)" } ?? "prf[\(index)]", message)
    }
}
