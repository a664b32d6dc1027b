import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan inspect`: show a token's header and payload without judging it.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a token's header and payload as pretty JSON (no validation).")

        @Argument(help: "The token.")
        var token: String

        func run() throws {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3 else { throw ValidationError("a token has exactly three dot-separated parts") }
            var shown: JSONObject = [:]
            for (name, part) in zip(["header", "payload"], parts) {
                guard let bytes = Base64URL.decode(part), let value = try? JSONParser.parse(bytes) else {
                    throw ValidationError("the \(name) is not base64url-encoded JSON")
                }
                shown[name] = value
            }
            print(String(decoding: JSONValue.object(shown).prettyPrinted(), as: UTF8.self))
        }
    }
}
