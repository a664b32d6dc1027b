public import CharterCore
public import HTTPTypes
public import Hummingbird

/// Each ``CharterError`` answers as itself: its status (the switch is exhaustive, so a new code without a
/// status does not compile), and the JSON error shape of DESIGN.md with the request's id.
extension CharterError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch code {
        case .apiKeyMissing, .apiKeyMalformed, .apiKeyInvalid, .apiKeyRevoked, .apiKeyExpired, .ipNotAllowed:
            .unauthorized
        case .permissionDenied, .envelopeRevoked, .noActiveEnvelope, .capabilityNotInEnvelope, .commandNotInEnvelope:
            .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .validationFailed, .ttlTooLong, .invalidAudience: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    public func response(from request: Request, context: some RequestContext) -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return JSONResponse.error(
            code: code.rawValue, message: message, field: field, status: status,
            requestID: (context as? CharterRequestContext)?.requestID ?? "", headers: headers)
    }
}

/// Refusals only HTTP has, answered in the same shape as ``CharterError``, with the codes DESIGN.md lists.
struct HTTPRefusal: HTTPResponseError {
    enum Code: String {
        case methodNotAllowed = "method_not_allowed"
        case payloadTooLarge = "payload_too_large"
    }

    let code: Code
    let message: String
    /// For a 405: the methods the path does take.
    var allow: String?

    static func payloadTooLarge(limit bytes: Int) -> HTTPRefusal {
        HTTPRefusal(code: .payloadTooLarge, message: "the request body is over \(bytes / 1024) KiB")
    }

    var status: HTTPResponse.Status {
        switch code {
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        }
    }

    func response(from request: Request, context: some RequestContext) -> Response {
        var headers: HTTPFields = [:]
        if let allow { headers[.allow] = allow }
        return JSONResponse.error(
            code: code.rawValue, message: message, status: status,
            requestID: (context as? CharterRequestContext)?.requestID ?? "", headers: headers)
    }
}
