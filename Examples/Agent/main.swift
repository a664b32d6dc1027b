// An agent that holds a UCAN 1.0 delegation from Charter, signs an invocation for each call to a service, and
// hands a narrower delegation to a sub-agent.
//
//   CHARTER_URL=http://127.0.0.1:8080 CHARTER_API_KEY=chr_live_… swift run example-agent [service-url]
//
// The key needs `token.authorize` (an `agent` key) and its app an envelope granting `/email/send`, such as
// {"commands": {"/email/send": [["like", ".to", "*@example.com"]]}}. With the URL of example-service, the agent
// and its sub-agent call it; without, they print what they would send. The agent's own identity is kept in
// ~/.charter/agent-identity.json, created on first run.

import CharterClient
import Foundation
import UCAN

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

let environment = ProcessInfo.processInfo.environment
guard let server = environment["CHARTER_URL"].flatMap(URL.init(string:)), let apiKey = environment["CHARTER_API_KEY"]
else {
    print("set CHARTER_URL and CHARTER_API_KEY")
    exit(64)
}
let serviceURL = CommandLine.arguments.dropFirst().first.flatMap(URL.init(string:))

/// POSTs an invocation to the service's /email/send, or prints the headers without a service.
func send(_ call: SignedInvocation, as who: String) async throws {
    guard let serviceURL else {
        print("\(who): Authorization: \(call.authorization.prefix(40))…  ucans: \(call.proofs.count) delegation(s)")
        return
    }
    var request = URLRequest(url: serviceURL.appending(path: "email/send"))
    request.httpMethod = "POST"
    request.setValue(call.authorization, forHTTPHeaderField: "Authorization")
    request.setValue(call.ucans, forHTTPHeaderField: "ucans")
    let (body, response) = try await URLSession.shared.data(for: request)
    let status = (response as? HTTPURLResponse)?.statusCode ?? 0
    print("\(who): \(status) \(String(decoding: body, as: UTF8.self).trimmingCharacters(in: .newlines))")
}

do {
    let agent = try CharterClient(server: server, apiKey: apiKey)
    print("agent \(agent.did)")
    // The service names itself; a real agent would have its DID in configuration.
    var service = DID(publicKey: Ed25519.SigningKey().publicKey)
    if let serviceURL {
        let (body, _) = try await URLSession.shared.data(from: serviceURL.appending(path: "did"))
        service = try DID(String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    let sendMail = try Command("/email/send")
    let delegation = try await agent.delegation(for: sendMail)  // cached and refreshed from here on
    print(
        "delegation \(delegation.cid), policy \(String(decoding: DAGJSON.encode(delegation.policy.ipld), as: UTF8.self)),"
            + " expires at \(delegation.expiration ?? 0)")

    // One invocation per call: the service accepts each once, and only within the envelope's policy.
    try await send(
        try await agent.invocation(sendMail, arguments: ["to": "ada@example.com", "subject": "hi"], audience: service),
        as: "agent → ada@example.com")
    try await send(
        try await agent.invocation(sendMail, arguments: ["to": "eve@elsewhere.com"], audience: service),
        as: "agent → eve@elsewhere.com")

    // A sub-agent may send to one address only, for two minutes: its policy adds to the envelope's.
    let subAgentKey = Ed25519.SigningKey()
    let subAgent = DID(publicKey: subAgentKey.publicKey)
    let narrower = try await agent.delegate(
        sendMail, policy: try Policy([["==", ".to", "ops@example.com"]]), to: subAgent, ttl: .seconds(120))
    print("delegated \(narrower.cid) to \(subAgent)")
    for to in ["ops@example.com", "ada@example.com"] {
        let call = try SignedInvocation(
            signing: sendMail, arguments: ["to": .string(to)], audience: service, chain: [delegation, narrower],
            with: subAgentKey, expiration: Int64(Date().timeIntervalSince1970) + 60)
        try await send(call, as: "sub-agent → \(to)")
    }
} catch let error as CharterClientError {
    print("refused: \(error)")
    exit(1)
}
