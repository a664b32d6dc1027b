public import Foundation
public import UCAN

#if canImport(FoundationNetworking)
    public import FoundationNetworking
#endif

/// The one way Charter's Swift code calls a Charter server: the CLI, CharterClient and CharterVerifier.
///
/// JSON over HTTP on an ephemeral session (no cookies, no cache), with a timeout, and no redirect ever
/// followed: a bearer key must go only to the server it was given for, so a redirect is an error. Every
/// failure is a ``CharterClientError``: the server's own `{"error": {"code", "message"}}` with its status, or
/// the client's `server_unreachable` or `unexpected_response`. Nothing it reports carries the bearer key.
public struct CharterHTTPClient: Sendable {
    /// An answer in the 2xx range.
    public struct Response: Sendable {
        public let status: Int
        public let body: Data

        /// The body as a JSON object.
        /// - Throws: ``CharterClientError`` `unexpected_response` when it is not one.
        public func object() throws(CharterClientError) -> JSONObject {
            guard case .object(let object)? = try? JSONParser.parse(Array(body)) else {
                throw .unexpected("the server's answer is not a JSON object")
            }
            return object
        }
    }

    /// The server's base URL, such as `https://charter.example.com`.
    public let server: URL
    private let session: URLSession

    /// - Parameter timeout: how long one request may take.
    public init(server: URL, timeout: TimeInterval = 30) {
        self.server = server
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 2
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    /// Sends one request and returns a 2xx answer.
    /// - Parameters:
    ///   - path: the API path, such as `/v1/authorize`; ids in it must already be escaped (``segment(_:)``).
    ///   - bearer: the API key to authenticate with, if any.
    ///   - json: the request's JSON object, sent as its body.
    /// - Throws: ``CharterClientError`` for an error answer, an unreachable server or a redirect.
    public func send(
        _ method: String = "GET", _ path: String, query: [URLQueryItem] = [], bearer: String? = nil,
        json: JSONObject? = nil
    ) async throws(CharterClientError) -> Response {
        let base =
            server.absoluteString.hasSuffix("/") ? String(server.absoluteString.dropLast()) : server.absoluteString
        guard var url = URL(string: base + (path.hasPrefix("/") ? path : "/" + path)) else {
            throw .unexpected("cannot form a URL for \(path)")
        }
        if !query.isEmpty { url.append(queryItems: query) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(JSONValue.object(json).serialized())
        }
        let redact = { (text: String) in Self.redacted(text, bearer) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw .unreachable("cannot reach \(base): \(redact(error.localizedDescription))")
        }
        guard let http = response as? HTTPURLResponse else { throw .unexpected("\(base) did not answer over HTTP") }
        let status = http.statusCode
        if (300..<400).contains(status) {
            throw CharterClientError(
                code: "unexpected_response",
                message: "HTTP \(status): redirects are not followed, so a key goes only to the server it is for",
                status: status)
        }
        guard (200..<300).contains(status) else {
            let error = (try? JSONParser.parse(Array(data)))?["error"]
            guard let code = error?["code"]?.stringValue, let message = error?["message"]?.stringValue else {
                throw CharterClientError(
                    code: "unexpected_response", message: "HTTP \(status) without a Charter error body", status: status)
            }
            throw CharterClientError(
                code: CharterClientError.Code(rawValue: redact(code)), message: redact(message),
                field: error?["field"]?.stringValue.map(redact), status: status,
                retryAfter: http.value(forHTTPHeaderField: "Retry-After").flatMap { Int64($0) })
        }
        return Response(status: status, body: data)
    }

    /// `text` escaped for use as one path segment, so an id can never change the path it is sent to.
    public static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// RFC 3986's unreserved characters: the only ones a path segment may carry unescaped.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `text` with the key masked, should a server or proxy ever echo it back.
    private static func redacted(_ text: String, _ key: String?) -> String {
        guard let key, !key.isEmpty else { return text }
        return text.replacingOccurrences(of: key, with: "[redacted]")
    }

    /// Releases the session: requests under way finish, or with `cancelling` are cancelled; none can start.
    public func close(cancelling: Bool = false) {
        if cancelling { session.invalidateAndCancel() } else { session.finishTasksAndInvalidate() }
    }
}

/// A failed call to Charter: the server's code (`api_key_revoked`, `capability_not_in_envelope`, …) with its
/// HTTP status, or the client's own (`server_unreachable`, `unexpected_response`, and CharterClient's
/// `would_widen`, `identity_unreadable`). The message is safe to print and never holds a key.
public struct CharterClientError: CodedError {
    /// The server's code or the client's own, as text: the server may know codes this client does not.
    public struct Code: RawRepresentable, ExpressibleByStringLiteral, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String
    /// The request field the server named, if any.
    public let field: String?
    /// The HTTP status, when the server answered.
    public let status: Int?
    /// Seconds the server asked to wait (429).
    public let retryAfter: Int64?

    public init(code: Code, message: String, field: String? = nil, status: Int? = nil, retryAfter: Int64? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.retryAfter = retryAfter
    }

    /// Worth trying again: no answer, a server failure, or a rate limit; never a refusal of the key.
    public var isTransient: Bool {
        guard let status else { return code == "server_unreachable" }
        return status >= 500 || status == 429
    }

    /// `<code>: <message>`, as the CLI prints it.
    public var description: String { "\(code): \(message)" }

    /// The server could not be reached at all.
    public static func unreachable(_ reason: String) -> Self { Self(code: "server_unreachable", message: reason) }

    /// The server answered with something that is not Charter's JSON.
    public static func unexpected(_ reason: String) -> Self { Self(code: "unexpected_response", message: reason) }
}

/// Refuses every redirect, so the response that asked for it is what the client sees.
private final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
