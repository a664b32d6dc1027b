import Foundation
import UCAN

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The one way the CLI talks to a Charter server: JSON over HTTP, authenticated by an API key.
///
/// Every failure comes back as an ``APIError``: the server's `{"error":{"code","message"}}`, or a
/// client-side code when the server was unreachable or did not answer in Charter's shape.
struct APIClient: Sendable {
    /// The server's base URL, such as `https://charter.example.com`.
    let server: URL
    private let key: String

    /// How long one request may take before the command gives up.
    static let timeout: TimeInterval = 30

    /// Creates a client for `server` that authenticates with `key`.
    init(server: URL, key: String) {
        self.server = server
        self.key = key
    }

    /// POSTs a JSON object to `path` and returns the body of a successful (2xx) answer.
    ///
    /// - Parameters:
    ///   - path: The API path, such as `/v1/authorize`; ids in it must already be escaped (``segment(_:)``).
    ///   - body: The request's JSON object.
    /// - Returns: The status and the response body as received.
    /// - Throws: ``APIError`` for an error answer, an unreachable server or a malformed response.
    func post(_ path: String, json body: JSONObject = [:]) async throws(APIError) -> (status: Int, body: Data) {
        let base =
            server.absoluteString.hasSuffix("/") ? String(server.absoluteString.dropLast()) : server.absoluteString
        guard let url = URL(string: base + path) else { throw .unexpected("cannot form a URL for \(path)") }
        var request = URLRequest(url: url, timeoutInterval: Self.timeout)
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.httpBody = Data(JSONValue.object(body).serialized())

        // Ephemeral: nothing (cookies, cached responses) outlives the command. No redirects: the
        // Authorization header must never follow a redirect to another host.
        let session = URLSession(configuration: .ephemeral, delegate: RefuseRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw .unreachable("cannot reach \(base): \(redacted(error.localizedDescription))")
        }
        guard let status = (response as? HTTPURLResponse)?.statusCode else {
            throw .unexpected("\(base) did not answer over HTTP")
        }
        if (300..<400).contains(status) {
            throw .unexpected("HTTP \(status): redirects are not followed, so the API key goes only to --server")
        }
        guard (200..<300).contains(status) else { throw failure(status: status, body: data) }
        return (status, data)
    }

    /// The JSON object a successful answer carries.
    ///
    /// - Throws: ``APIError`` `unexpected_response` when the body is not a JSON object.
    static func object(_ body: Data) throws(APIError) -> JSONObject {
        guard case .object(let object)? = try? JSONParser.parse(Array(body)) else {
            throw .unexpected("the server's answer is not a JSON object")
        }
        return object
    }

    /// `text` escaped for use as one path segment, so an id can never change the path it is sent to.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// RFC 3986's unreserved characters: the only ones a path segment may carry unescaped.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    private func failure(status: Int, body: Data) -> APIError {
        let error = (try? Self.object(body))?["error"]?.objectValue
        guard let code = error?["code"]?.stringValue, let message = error?["message"]?.stringValue else {
            return .unexpected("HTTP \(status) without a Charter error body")
        }
        return APIError(code: redacted(code), message: redacted(message))
    }

    /// `text` with the API key masked, should a server or proxy ever echo it back.
    private func redacted(_ text: String) -> String {
        key.isEmpty ? text : text.replacingOccurrences(of: key, with: "[redacted]")
    }
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
