/// A refusal or failure the control plane reports: a stable code, a safe message and, for
/// validation errors, the field concerned.
///
/// Only the server maps codes to HTTP statuses. Messages never contain a key, token or secret.
public struct CharterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable failure class, as listed in DESIGN.md.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let apiKeyMissing = Code(rawValue: "api_key_missing")
        public static let apiKeyMalformed = Code(rawValue: "api_key_malformed")
        public static let apiKeyInvalid = Code(rawValue: "api_key_invalid")
        public static let apiKeyRevoked = Code(rawValue: "api_key_revoked")
        public static let apiKeyExpired = Code(rawValue: "api_key_expired")
        public static let ipNotAllowed = Code(rawValue: "ip_not_allowed")
        public static let permissionDenied = Code(rawValue: "permission_denied")
        public static let notFound = Code(rawValue: "not_found")
        public static let conflict = Code(rawValue: "conflict")
        public static let validationFailed = Code(rawValue: "validation_failed")
        public static let rateLimited = Code(rawValue: "rate_limited")
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        public static let methodNotAllowed = Code(rawValue: "method_not_allowed")
        public static let envelopeRevoked = Code(rawValue: "envelope_revoked")
        public static let noActiveEnvelope = Code(rawValue: "no_active_envelope")
        public static let capabilityNotInEnvelope = Code(rawValue: "capability_not_in_envelope")
        public static let ttlTooLong = Code(rawValue: "ttl_too_long")
        public static let invalidAudience = Code(rawValue: "invalid_audience")
        public static let internalError = Code(rawValue: "internal_error")
        public static let unavailable = Code(rawValue: "unavailable")
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
