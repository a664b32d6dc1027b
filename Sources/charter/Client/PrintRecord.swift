import CharterHTTP
import Foundation
import UCAN

/// Prints a record the server returned as one line of compact JSON on stdout.
///
/// - Throws: ``CharterClientError`` `unexpected_response` when the body is not a JSON object.
func printRecord(_ body: CharterHTTPClient.Response) throws(CharterClientError) {
    print(String(decoding: JSONValue.object(try body.object()).serialized(), as: UTF8.self))
}
