import ArgumentParser
import UCAN

extension UCANCommand {
    /// `charter ucan delegate`: sign a UCAN 1.0 delegation.
    struct Delegate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build and sign a UCAN 1.0 delegation; prints it as base64 of the DAG-CBOR envelope.")

        @Option(help: "Base64 of the issuer's 64-byte secret key, 32-byte seed, or multicodec ed25519-priv key.")
        var issuerKey: String

        @Option(help: "The audience's did:key.")
        var audience: String

        @Option(help: "The subject's did:key (or --powerline).")
        var subject: String?

        @Flag(help: "Delegate for any subject (sub: null).")
        var powerline = false

        @Option(help: "The command, such as /msg/send.")
        var command: String

        @Option(help: "The policy as DAG-JSON, such as '[[\"==\", \".to\", \"a@example.com\"]]' (default []).")
        var policy: String = "[]"

        @Option(help: "Expiry in Unix seconds, or 'never'.")
        var expiration: String

        @Option(help: "Not-before time in Unix seconds.")
        var notBefore: Int64?

        @Option(help: "The nonce, base64 (default: 12 random bytes).")
        var nonce: String?

        @Option(help: "Metadata as a DAG-JSON object.")
        var meta: String?

        func validate() throws {
            guard (subject == nil) != !powerline else {
                throw ValidationError("give --subject or --powerline, exactly one")
            }
        }

        func run() throws {
            let key = try signingKey(base64: issuerKey)
            let delegation = try Delegation(
                issuer: key, audience: try DID(audience, field: "--audience"),
                subject: try subject.map { try DID($0, field: "--subject") },
                command: try Command(command, field: "--command"),
                policy: try Policy(try dagJSON(policy, option: "--policy"), field: "--policy"),
                nonce: try parseNonce(nonce) ?? SecureBytes.random(count: 12),
                meta: try meta.map { try dagJSONMap($0, option: "--meta") },
                notBefore: notBefore, expiration: try parseExpiration(expiration))
            print(TokenInput.print(delegation.bytes))
        }
    }
}
