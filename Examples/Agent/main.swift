// An agent that trades its API key for a UCAN, keeps it fresh, and hands a narrower one to a sub-agent.
//
//   CHARTER_URL=http://127.0.0.1:8080 CHARTER_API_KEY=chr_live_… swift run example-agent [service-did]
//
// The key needs `token.authorize` (an `agent` key) and its app an envelope covering `email/send` on
// `mailto:*`. The agent's own identity is kept in ~/.charter/agent-identity.json, created on first run.

import CharterClient
import Foundation
import UCAN

let environment = ProcessInfo.processInfo.environment
guard let server = environment["CHARTER_URL"].flatMap(URL.init(string:)), let apiKey = environment["CHARTER_API_KEY"]
else {
    print("set CHARTER_URL and CHARTER_API_KEY")
    exit(64)
}

do {
    let agent = try CharterClient(server: server, apiKey: apiKey)
    print("agent \(agent.did)")

    let team = try Capabilities([Capability(resource: "mailto:*", ability: "email/send")])
    let token = try await agent.token(for: team)  // cached and refreshed from here on
    print("token \(token.cid), expires at \(token.payload.expiration ?? 0)")

    // A sub-agent may send to one address only, for two minutes.
    let subAgentKey = Ed25519.SigningKey()
    let subAgent = DID(publicKey: subAgentKey.publicKey)
    let opsOnly = try Capabilities([Capability(resource: "mailto:ops@example.com", ability: "email/send")])
    let delegated = try await agent.delegate(opsOnly, to: subAgent, ttl: .seconds(120), from: token)
    print("delegated \(delegated.cid) to \(subAgent)")

    // The sub-agent invokes a service (its DID as the first argument) with a token of its own.
    if let service = CommandLine.arguments.dropFirst().first.flatMap({ try? DID($0) }) {
        let invocation = try UCAN(
            signing: Payload(
                issuer: subAgent, audience: service, expiration: Int64(Date().timeIntervalSince1970) + 60,
                capabilities: opsOnly, proofs: [delegated.cid]),
            with: subAgentKey)
        print("Authorization: Bearer \(invocation.encoded)")
        print("ucans: \(token.encoded),\(delegated.encoded)")
    }
} catch let error as CharterClientError {
    print("refused: \(error)")
    exit(1)
}
