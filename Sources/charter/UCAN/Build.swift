import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan build`: sign a token from the command line.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build and sign a UCAN; prints the token.")

        @Option(help: "Base64 of the issuer's 64-byte secret key, 32-byte seed, or multicodec ed25519-priv key.")
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
            let key = try signingKey(base64: issuerKey)
            let expires = try parseExpiration(expiration)
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
    }
}

/// Parses an option's value as a JSON object, naming the option when it is not one.
func jsonObject(_ text: String, option: String) throws -> JSONObject {
    guard case .object(let object)? = try? JSONParser.parse(Array(text.utf8)) else {
        throw ValidationError("\(option) must be a JSON object")
    }
    return object
}
