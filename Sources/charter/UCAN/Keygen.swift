import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan keygen`: a fresh Ed25519 identity as JSON.
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate an Ed25519 key: prints {\"did\", \"secret_key\"} (base64 of libsodium's 64-byte key)."
        )

        func run() throws {
            let key = Ed25519.SigningKey()
            var secret = key.exportSecretKey()
            defer { SecureBytes.zero(&secret) }
            let json = JSONValue.object([
                "did": .string(DID(publicKey: key.publicKey).string),
                "secret_key": .string(Data(secret).base64EncodedString()),
            ])
            print(String(decoding: json.serialized(), as: UTF8.self))
        }
    }
}
