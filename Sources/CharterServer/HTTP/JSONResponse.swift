import CharterCore
import Hummingbird
import NIOCore
import UCAN

/// Responses with JSON bodies written by the canonical serializer (no Codable on the hot path).
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        make(bytes: value.serialized(), status: status, headers: headers)
    }

    /// An object written member by member (see ``JSONObjectWriter``).
    static func object(
        status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ members: (inout JSONObjectWriter) -> Void
    ) -> Response {
        make(bytes: JSONObjectWriter.write(members), status: status, headers: headers)
    }

    /// A body already written as JSON bytes.
    static func make(bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = jsonContentType
        if !headers.isEmpty { fields.append(contentsOf: headers) }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Built once: setting a field validates its value every time.
    private static let jsonContentType: HTTPFields = [.contentType: "application/json"]

    /// The error shape of DESIGN.md: `{"error": {"code", "message", "request_id"}}`, plus `field` for 422s.
    static func error(_ error: CharterError, requestID: String) -> Response {
        var body: JSONObject = [
            "code": .string(error.code.rawValue),
            "message": .string(error.message),
            "request_id": .string(requestID),
        ]
        if let field = error.field { body["field"] = .string(field) }
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return make(["error": .object(body)], status: status(for: error.code), headers: headers)
    }

    /// The one place codes become HTTP statuses.
    static func status(for code: CharterError.Code) -> HTTPResponse.Status {
        switch code {
        case .apiKeyMissing, .apiKeyMalformed, .apiKeyInvalid, .apiKeyRevoked, .apiKeyExpired, .ipNotAllowed:
            .unauthorized
        case .permissionDenied, .envelopeRevoked, .noActiveEnvelope, .capabilityNotInEnvelope: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .validationFailed, .ttlTooLong, .invalidAudience: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .payloadTooLarge: .contentTooLarge
        case .methodNotAllowed: .methodNotAllowed
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }
}
