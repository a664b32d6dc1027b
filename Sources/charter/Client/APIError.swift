/// Why a call to Charter's API failed, in the server's own terms where it gave them.
///
/// `code` is the server's error code (`permission_denied`, `envelope_revoked`, …) or one of the
/// client's own: `server_unreachable` or `unexpected_response`. The message never carries the API key.
struct APIError: Error, Sendable, CustomStringConvertible {
    /// The machine-readable failure class.
    let code: String
    /// A human-readable explanation, safe to print.
    let message: String

    /// The line the commands print on stderr: `<code>: <message>`.
    var description: String { "\(code): \(message)" }

    /// The server could not be reached at all.
    static func unreachable(_ reason: String) -> APIError {
        APIError(code: "server_unreachable", message: reason)
    }

    /// The server answered with something that is not Charter's JSON.
    static func unexpected(_ reason: String) -> APIError {
        APIError(code: "unexpected_response", message: reason)
    }
}
