import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan build`: sign a token from the command line.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build and sign a UCAN; prints the token.")

        @Option(help: "Base64 of the issuer's 64-byte libsodium secret key or 32-byte seed.")
        var issuerKey: String

        @Option(help: "The audience's did:key.")
        var audience: String

        @Option(help: "Expiry in Unix seconds, or 'never'.")
        var expiration: String

        @Option(help: "Not-before time in Unix seconds.")
        var notBefore: Int64?

        @Option(help: "Nonce (nnc).")
        var nonce: String?

        @Option(help: "Facts (fct) as a JSON object.")
        var facts: String?

        @Option(help: "Capabilities as a JSON object: {resource: {ability: [caveat, …]}}.")
        var capabilities: String = "{}"

        @Option(name: .customLong("proof"), help: "CID of a proof token; repeat for several.")
        var proofs: [String] = []

        func run() throws {
            let key = try signingKey()
            let expires: Int64?
            if expiration == "never" {
                expires = nil
            } else if let seconds = Int64(expiration) {
                expires = seconds
            } else {
                throw ValidationError("--expiration must be Unix seconds or 'never'")
            }
            let payload = Payload(
                issuer: DID(publicKey: key.publicKey),
                audience: try DID(audience, field: "--audience"),
                notBefore: notBefore,
                expiration: expires,
                nonce: nonce,
                facts: try facts.map { try jsonObject($0, option: "--facts") },
                capabilities: try Capabilities(
                    json: .object(jsonObject(capabilities, option: "--capabilities")),
                    field: "--capabilities"),
                proofs: try proofs.map { try CID($0, field: "--proof") }
            )
            print(try UCAN(signing: payload, with: key).encoded)
        }

        private func signingKey() throws -> Ed25519.SigningKey {
            guard var bytes = Data(base64Encoded: issuerKey).map(Array.init) else {
                throw ValidationError("--issuer-key is not base64")
            }
            defer { SecureBytes.zero(&bytes) }
            switch bytes.count {
            case Ed25519.seedByteCount: return try Ed25519.SigningKey(seed: bytes)
            case Ed25519.secretKeyByteCount: return try Ed25519.SigningKey(secretKey: bytes)
            default: throw ValidationError("--issuer-key must decode to a 32-byte seed or a 64-byte secret key")
            }
        }
    }
}

/// Parses an option's value as a JSON object, naming the option when it is not one.
func jsonObject(_ text: String, option: String) throws -> JSONObject {
    guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
        throw ValidationError("\(option) must be a JSON object")
    }
    return object
}
