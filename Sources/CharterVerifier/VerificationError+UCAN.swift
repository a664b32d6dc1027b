import UCAN

extension VerificationError {
    /// Maps a chain validation failure to the verifier's coarser codes, keeping the field path in the message and
    /// in ``field``.
    init(_ error: UCANError) {
        let code: Code
        switch error.code {
        case .invalidSignature: code = .badSignature
        case .expired: code = .expired
        case .notYetValid: code = .notYetValid
        case .untrustedIssuer: code = .untrustedIssuer
        case .audienceNotAccepted: code = .wrongAudience
        case .revoked: code = .revoked
        case .policyMismatch: code = .policyViolation
        case .replayed: code = .replayed
        case .malformed, .missingField, .invalidField, .unsupportedAlgorithm: code = .malformed
        default: code = .invalidChain
        }
        self.init(code, error.description, field: error.field)
    }
}
