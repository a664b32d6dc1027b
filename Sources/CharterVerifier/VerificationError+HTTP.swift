import HTTPTypes
import Hummingbird
import UCAN

extension VerificationError {
    /// 503 while revocation data is missing or stale (or the replay cache is full), 403 when the token is valid
    /// but not enough (a capability, a command or a policy), else 401.
    var status: HTTPResponse.Status {
        switch code {
        case .notCovered, .policyViolation: .forbidden
        case .feedStale, .notSynced, .overloaded: .serviceUnavailable
        default: .unauthorized
        }
    }

    /// `{"error":{"code","message","field"?}}` (the server's shape) with the status above, and the
    /// `WWW-Authenticate` header `challenge` writes for it.
    func response(_ challenge: BearerChallenge) -> Response {
        var error: JSONObject = ["code": .string(code.rawValue), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        let body = JSONValue.object(["error": .object(error)]).serialized()
        var headers: HTTPFields = [.contentType: "application/json"]
        if let header = challenge.header(for: self) { headers[.wwwAuthenticate] = header }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
