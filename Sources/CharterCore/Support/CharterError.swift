public import UCAN

/// A refusal or failure the control plane reports: a stable code, a safe message and, for
/// validation errors, the field concerned.
///
/// Only the server maps codes to HTTP statuses. Messages never contain a key, token or secret.
public struct CharterError: CodedError {
    /// A stable, machine-readable failure class, as listed in DESIGN.md. An enum, so that the server's
    /// mapping of codes to statuses is exhaustive: a new code without a status does not compile.
    public enum Code: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case apiKeyMissing = "api_key_missing"
        case apiKeyMalformed = "api_key_malformed"
        case apiKeyInvalid = "api_key_invalid"
        case apiKeyRevoked = "api_key_revoked"
        case apiKeyExpired = "api_key_expired"
        case ipNotAllowed = "ip_not_allowed"
        case permissionDenied = "permission_denied"
        case notFound = "not_found"
        case conflict = "conflict"
        case validationFailed = "validation_failed"
        case rateLimited = "rate_limited"
        case envelopeRevoked = "envelope_revoked"
        case noActiveEnvelope = "no_active_envelope"
        case capabilityNotInEnvelope = "capability_not_in_envelope"
        case commandNotInEnvelope = "command_not_in_envelope"
        case ttlTooLong = "ttl_too_long"
        case invalidAudience = "invalid_audience"
        case internalError = "internal_error"
        case unavailable = "unavailable"

        public var description: String { rawValue }
    }

    /// The failure class.
    public let code: Code
    /// A sentence safe to show a client and to log.
    public let message: String
    /// The request field at fault, for validation errors.
    public let field: String?
    /// Seconds until a rate-limited caller may retry.
    public let retryAfter: Int?

    /// Creates an error.
    public init(_ code: Code, _ message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code): \(message)" }

    /// A validation failure naming the field.
    public static func invalid(_ field: String, _ message: String) -> Self {
        CharterError(.validationFailed, "\(field): \(message)", field: field)
    }

    /// The one answer for anything missing or owned by another organization, so the two cannot be told apart.
    public static func notFound(_ kind: String) -> Self {
        CharterError(.notFound, "\(kind) not found")
    }

    /// A refusal naming the permission the caller lacks.
    public static func denied(_ permission: Permission) -> Self {
        CharterError(.permissionDenied, "this key lacks the \(permission.rawValue) permission")
    }
}
