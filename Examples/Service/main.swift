// A tiny upstream service that accepts Charter-minted UCANs, verified offline.
//
//   CHARTER_URL=http://127.0.0.1:8080 CHARTER_ORGANIZATION=org_… PORT=8081 swift run example-service
//
// It accepts only tokens of the organization CHARTER_ORGANIZATION names (its id, as GET /v1/me shows it), and
// prints its DID (also at GET /did).
//   POST /email/send  UCAN 1.0: an invocation of /email/send signed by the agent, in Authorization (base64), and
//                     the delegations it cites in a `ucans` header; each invocation is accepted once, and only
//                     when its arguments satisfy the envelope's policy (example-agent does all of this).
//   POST /send        UCAN 0.10: a token for that audience (charter authorize --audience <did> …) in
//                     Authorization; a delegated token with its proofs in `ucans`, comma-separated.
import CharterVerifier
import Foundation
import Hummingbird
import UCAN

let environment = ProcessInfo.processInfo.environment
let charter = URL(string: environment["CHARTER_URL"] ?? "http://127.0.0.1:8080")!
let port = Int(environment["PORT"] ?? "") ?? 8081
guard let organization = environment["CHARTER_ORGANIZATION"], !organization.isEmpty else {
    print("example-service: set CHARTER_ORGANIZATION to the id of the organization whose tokens to accept")
    exit(64)
}

// A real service keeps this key; here it is new on every start, so tokens must be minted after it starts.
let identity = Ed25519.SigningKey()
let did = DID(publicKey: identity.publicKey)

// Syncs issuers and revocations from Charter every 10 s; refuses tokens (503) if that data gets over 60 s old.
let verifier = CharterVerifier(
    VerifierConfiguration(server: charter, organizations: [organization], audiences: [did]))

let router = Router()
router.get("did") { _, _ in did.string + "\n" }
router.group("email/send")
    .add(middleware: RequireInvocation(verifier, command: try Command("/email/send")))
    .post { _, _ in
        guard let call = VerifiedInvocation.current, case .string(let to)? = call.arguments["to"] else {
            throw HTTPError(.badRequest, message: "say whom to send to")
        }
        return "sent to \(to) for \(call.agent), app \(call.app ?? "?") under envelope \(call.envelope ?? "?")\n"
    }
router.group("send")
    .add(middleware: RequireCapability(verifier, resource: "mailto:*", ability: "email/send"))
    .post { _, _ in
        let token = VerifiedToken.current
        return "sent for app \(token?.app ?? "?") under envelope \(token?.envelope ?? "?")\n"
    }

let app = Application(
    router: router,
    configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
    services: [verifier])
print("example-service: \(did) on http://127.0.0.1:\(port), trusting \(charter)")
try await app.runService()
