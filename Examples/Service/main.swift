// A tiny upstream service that accepts Charter-minted UCANs, verified offline.
//
//   CHARTER_URL=http://127.0.0.1:8080 CHARTER_ORGANIZATION=org_… PORT=8081 swift run example-service
//
// It accepts only tokens of the organization CHARTER_ORGANIZATION names (its id, as GET /v1/me shows it).
// It prints its DID; mint a token for that audience (charter authorize --audience <did> …) and call
//   curl -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8081/send
// A delegated token goes in Authorization and its proofs in a `ucans` header, comma-separated.
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
