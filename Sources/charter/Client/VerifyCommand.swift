import ArgumentParser
import CharterVerifier
import Foundation
import Logging
import UCAN

/// `charter verify`: sync issuers and revocations from a server once, then verify a token offline.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Verify a Charter-minted UCAN (0.10 token or 1.0 invocation) as an upstream service would: exit 0 and 'valid', or exit 1.",
        discussion: """
            Fetches GET /v1/issuers and the revocation feed (GET /v1/revocations) from --server once, without an \
            API key, then verifies the token and its proofs offline with CharterVerifier: signatures, the whole \
            delegation chain, a trusted Charter issuer within its window, time, revocation of any token on the \
            chain or of the root's envelope, and --resource/--ability if given. On failure one line on stderr names \
            the reason, such as 'revoked: envelope env_… is revoked'. Only tokens of the --organization ids are             accepted; without any, tokens of every organization the server publishes issuers for are, and a             second line names the one that signed.
            """)

    @Argument(
        help: """
            The token: a UCAN 0.10 JWT (the outermost one, for a delegation), or a UCAN 1.0 invocation in base64, \
            whose delegations are then its --proof options, also in base64.
            """)
    var token: String

    @Option(help: ArgumentHelp("The Charter server's base URL.", valueName: "url"))
    var server: String

    @Option(name: .customLong("proof"), help: "A proof the token's chain cites; repeat for several.")
    var proofs: [String] = []

    @Option(
        help: ArgumentHelp(
            "The DID the token must be addressed to (your service's). Without it the token's own aud is accepted.",
            valueName: "did"))
    var audience: String?

    @Option(help: ArgumentHelp("Require a capability on this resource URI (with --ability).", valueName: "uri"))
    var resource: String?

    @Option(help: ArgumentHelp("Require this ability on --resource, such as email/send.", valueName: "ability"))
    var ability: String?

    @Option(help: ArgumentHelp("1.0: require an invocation of exactly this command.", valueName: "cmd"))
    var command: String?

    @Option(
        name: .customLong("organization"),
        help: ArgumentHelp("Accept only tokens of this organization id; repeat for several.", valueName: "org"))
    var organizations: [String] = []

    @Option(help: ArgumentHelp("The environment whose issuers are trusted: live or test.", valueName: "env"))
    var environment = "live"

    func validate() throws {
        guard ["live", "test"].contains(environment) else {
            throw ValidationError("--environment must be live or test")
        }
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false
        else {
            throw ValidationError("--server must be an http or https URL, such as https://charter.example.com")
        }
        guard (resource == nil) == (ability == nil) else {
            throw ValidationError("--resource and --ability go together")
        }
        if let audience, (try? DID(audience)) == nil {
            throw ValidationError("--audience must be an Ed25519 did:key")
        }
        if isInvocation {
            guard resource == nil else { throw ValidationError("--resource and --ability are for UCAN 0.10 tokens") }
            if let command, (try? Command(command)) == nil {
                throw ValidationError("--command must be a command such as /email/send")
            }
        } else if command != nil {
            throw ValidationError("--command is for UCAN 1.0 invocations")
        }
    }

    /// A UCAN 1.0 invocation is base64, which has no `.`; a 0.10 token is a JWT, which has two.
    private var isInvocation: Bool {
        if case .envelope? = try? TokenInput(token) { return true }
        return false
    }

    func run() async throws {
        let audiences: Set<DID>
        if let audience {
            audiences = [try DID(audience)]
        } else {
            // Accepting the token's own audience: the caller asks "is this token valid", not "is it for me".
            do {
                if isInvocation {
                    guard let aud = try Invocation(bytes: try base64(token, "the invocation")).audience else {
                        try fail("\(VerificationError.Code.wrongAudience): the invocation names no audience")
                    }
                    audiences = [aud]
                } else {
                    audiences = [try UCAN(parsing: token).payload.audience]
                }
            } catch {
                try fail("\(VerificationError.Code.malformed): \(error)")
            }
        }
        let verifier: CharterVerifier
        do {
            verifier = self.verifier(audiences, organizations: try await trustedOrganizations())
            try await verifier.sync()
        } catch {
            try fail("sync_failed: could not sync from \(server): \(error)")
        }
        let org: String?
        do {
            if isInvocation {
                let delegations = try proofs.enumerated().map { index, proof throws(VerificationError) in
                    try base64(proof, "--proof \(index + 1)")
                }
                org = try verifier.verify(
                    invocation: try base64(token, "the invocation"), proofs: delegations,
                    requiring: try command.map { try Command($0) }
                ).org
            } else {
                let required = resource.flatMap { resource in
                    ability.map { Capability(resource: resource, ability: $0) }
                }
                org = try verifier.verify(token, proofs: proofs, requiring: required).org
            }
        } catch let error as VerificationError {
            try fail(error.description)
        }
        print("valid")
        if organizations.isEmpty, let org { print("organization: \(org)") }
    }

    /// A UCAN 1.0 envelope from standard base64, padded or not, as ``TokenInput`` reads one.
    private func base64(_ text: String, _ what: String) throws(VerificationError) -> [UInt8] {
        guard case .envelope(let bytes)? = try? TokenInput(text) else {
            throw VerificationError(.malformed, "\(what) is neither a JWT nor the base64 of a UCAN 1.0 envelope")
        }
        return bytes
    }

    /// The organizations named, or every one the server publishes issuers for.
    private func trustedOrganizations() async throws -> Set<String> {
        guard organizations.isEmpty else { return Set(organizations) }
        return try await CharterVerifier.publishedOrganizations(server: URL(string: server)!)
    }

    private func verifier(_ audiences: Set<DID>, organizations: Set<String>) -> CharterVerifier {
        // The one line on stderr is the verdict; the verifier's own warnings stay out of it.
        let quiet = Logger(label: "charter.verify") { _ in SwiftLogNoOpLogHandler() }
        return CharterVerifier(
            VerifierConfiguration(
                server: URL(string: server), organizations: organizations, environments: [environment],
                audiences: audiences),
            logger: quiet)
    }

    private func fail(_ line: String) throws -> Never {
        FileHandle.standardError.write(Data((line + "\n").utf8))
        throw ExitCode.failure
    }
}
