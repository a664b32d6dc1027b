import Foundation
import UCAN

/// Prints a record the server returned as one line of compact JSON on stdout.
///
/// - Throws: ``APIError`` `unexpected_response` when the body is not a JSON object.
func printRecord(_ body: Data) throws(APIError) {
    print(String(decoding: JSONValue.object(try APIClient.object(body)).serialized(), as: UTF8.self))
}
