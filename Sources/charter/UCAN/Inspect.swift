import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan inspect`: show a token's contents without judging it.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print a token's contents as pretty JSON (no validation): a 0.10 header and payload, a 1.0 envelope as DAG-JSON."
        )

        @Argument(help: "The token.")
        var token: String

        func run() throws {
            switch try TokenInput(token) {
            case .jwt(let text): try Self.inspect(jwt: text)
            case .envelope(let bytes):
                let decoded: IPLD
                do {
                    decoded = try DAGCBOR.decode(bytes)
                } catch {
                    throw ValidationError("the token is not DAG-CBOR: \(error)")
                }
                // DAG-JSON is JSON, so the JSON printer indents it.
                let text = DAGJSON.encode(decoded)
                let pretty = (try? JSONParser.parse(text)).map { $0.prettyPrinted() } ?? text
                print(String(decoding: pretty, as: UTF8.self))
            }
        }

        private static func inspect(jwt: String) throws {
            let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
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
