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
    static func error(
        code: String, message: String, field: String? = nil, status: HTTPResponse.Status, requestID: String,
        headers: HTTPFields = [:]
    ) -> Response {
        object(status: status, headers: headers) { body in
            body.object("error") { error in
                error.string("code", code)
                if let field { error.string("field", field) }
                error.string("message", message)
                error.string("request_id", requestID)
            }
        }
    }
}
