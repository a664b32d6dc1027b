import ArgumentParser
import UCAN

extension UCANCommand {
    /// `charter ucan invoke`: sign a UCAN 1.0 invocation with the invoker's own key.
    struct Invoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build and sign a UCAN 1.0 invocation; prints it as base64 of the DAG-CBOR envelope.")

        @Option(help: "Base64 of the invoker's 64-byte secret key, 32-byte seed, or multicodec ed25519-priv key.")
        var issuerKey: String

        @Option(help: "The subject's did:key.")
        var subject: String

        @Option(help: "The executor's did:key, when it is not the subject.")
        var audience: String?

        @Option(help: "The command, such as /msg/send.")
        var command: String

        @Option(help: "The arguments as a DAG-JSON object (default {}).")
        var args: String = "{}"

        @Option(name: .customLong("proof"), help: "CID of a delegation, root first; repeat for the chain.")
        var proofs: [String] = []

        @Option(help: "Expiry in Unix seconds, or 'never'.")
        var expiration: String

        @Option(help: "Issued-at time in Unix seconds.")
        var issuedAt: Int64?

        @Option(help: "The nonce, base64 (default: 12 random bytes).")
        var nonce: String?

        @Option(help: "Metadata as a DAG-JSON object.")
        var meta: String?

        func run() throws {
            let key = try signingKey(base64: issuerKey)
            let invocation = try Invocation(
                issuer: key, subject: try DID(subject, field: "--subject"),
                audience: try audience.map { try DID($0, field: "--audience") },
                command: try Command(command, field: "--command"),
                arguments: try dagJSONMap(args, option: "--args"),
                proofs: try proofs.map { try CID($0, field: "--proof") },
                nonce: try parseNonce(nonce) ?? SecureBytes.random(count: 12),
                meta: try meta.map { try dagJSONMap($0, option: "--meta") },
                expiration: try parseExpiration(expiration), issuedAt: issuedAt)
            print(TokenInput.print(invocation.bytes))
        }
    }
}
