import CharterHTTP
import Foundation
import UCAN

/// The CLI's calls to a Charter server: CharterHTTPClient (no redirects, a timeout, typed errors) with the key
/// the command was given.
struct APIClient: Sendable {
    let http: CharterHTTPClient
    private let key: String

    /// Creates a client for `server` that authenticates with `key`.
    init(server: URL, key: String) {
        http = CharterHTTPClient(server: server)
        self.key = key
    }

    /// POSTs a JSON object to `path`; ids in it must already be escaped (`CharterHTTPClient.segment`).
    /// - Throws: ``CharterClientError`` for an error answer, an unreachable server or a malformed response.
    func post(_ path: String, json body: JSONObject = [:]) async throws(CharterClientError)
        -> CharterHTTPClient.Response
    {
        try await http.send("POST", path, bearer: key, json: body)
    }
}
