import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan verify`: validate a token and its chain offline.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a UCAN and its proofs: exit 0 and 'valid', or exit 1 and the reason on stderr."
        )

        @Argument(help: "The token.")
        var token: String

        @Option(name: .customLong("proof"), help: "A proof token (matched to prf by CID); repeat for several.")
        var proofs: [String] = []

        @Option(help: "Validate as of this Unix time instead of now.")
        var now: Int64?

        @Flag(help: "Print the verified token, or the failure, as JSON on stdout.")
        var json = false

        func run() throws {
            let time = now ?? Int64(Date().timeIntervalSince1970)
            do {
                let chain = try Validator().validate(token, proofs: proofs, now: time)
                if json {
                    let payload = chain.token.payload
                    let summary: JSONObject = [
                        "valid": .bool(true),
                        "cid": .string(chain.token.cid.string),
                        "issuer": .string(payload.issuer.string),
                        "audience": .string(payload.audience.string),
                        "expiration": payload.expiration.map(JSONValue.integer) ?? .null,
                        "capabilities": payload.capabilities.json,
                        "root_issuers": .array(chain.rootIssuers.sorted().map { .string($0.string) }),
                    ]
                    print(String(decoding: JSONValue.object(summary).serialized(), as: UTF8.self))
                } else {
                    print("valid")
                }
            } catch {
                if json {
                    let failure: JSONObject = [
                        "valid": .bool(false),
                        "error": .object([
                            "code": .string(error.code.rawValue),
                            "field": error.field.map(JSONValue.string) ?? .null,
                            "message": .string(error.message),
                        ]),
                    ]
                    print(String(decoding: JSONValue.object(failure).serialized(), as: UTF8.self))
                }
                FileHandle.standardError.write(Data("invalid: \(error.code): \(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }
}
