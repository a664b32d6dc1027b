import CSodium
import CharterCore
import CharterServer
import CharterVerifier
import Foundation
import Logging
import UCAN

/// `charter-bench verifier`: CharterVerifier's offline verification rate on one core, for a Charter-minted root,
/// for a depth-3 chain (root → agent → sub-agent, proofs passed as strings) and for a UCAN 1.0 invocation with its
/// one delegation (a new invocation every call, through the replay cache), each beside raw libsodium verification
/// of a token-sized message in the same run.
///
/// The verifier is synced from a real server on loopback that has revocations on its feed, so the hot path
/// looks revocations up as it does in production; caches are warm.
struct VerifierBenchmark {
    let roundSeconds: Double
    let rounds = 5

    func run() async throws {
        _ = sodium_init()
        let charter = try await BenchCharter()
        defer { charter.remove() }
        let owner = charter.owner
        let controlPlane = charter.controlPlane
        let logger = BenchCharter.logger(.critical)
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = CharterHTTPServer.application(
            controlPlane: controlPlane, configuration: ServerConfiguration(port: 0, flushInterval: .seconds(3600)),
            logger: logger, onServerRunning: { sink.yield($0) })
        let server = Task { try await controlPlane.store.withServices { try await app.run() } }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0

        let fixture = try await Fixture(controlPlane: controlPlane, owner: owner)
        let verifier = CharterVerifier(
            VerifierConfiguration(
                server: URL(string: "http://127.0.0.1:\(port)")!, organizations: [owner.organization.id],
                audiences: [fixture.service], maxFeedAge: 3600, replayCapacity: 10_000_000),
            logger: logger)
        try await verifier.sync()
        server.cancel()
        _ = try verifier.verify(fixture.root.encoded, requiring: fixture.required)
        _ = try verifier.verify(fixture.leaf.encoded, proofs: fixture.proofs, requiring: fixture.required)
        _ = try verifier.verify(fixture.distinctRoots[0], requiring: fixture.required)

        let token = Array(fixture.root.encoded.utf8)
        let message = Array(token[..<token.lastIndex(of: UInt8(ascii: "."))!])
        let signature = fixture.root.signature
        let publicKey = fixture.root.payload.issuer.publicKey.bytes
        print("charter-bench verifier: \(rounds) interleaved rounds of \(roundSeconds)s, medians, one thread")
        print(
            "root \(fixture.root.encoded.utf8.count) bytes (signed part \(message.count)), chain of 3 with 2 proofs, "
                + "\(fixture.revocations) revocations on the feed")
        var results = Rounds()
        for _ in 0..<rounds {
            results.record(
                "raw",
                opsPerSecond(seconds: roundSeconds) {
                    precondition(
                        crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0)
                })
            results.record(
                "root",
                try opsPerSecond(seconds: roundSeconds) {
                    _ = try verifier.verify(fixture.root.encoded, requiring: fixture.required)
                })
            results.record(
                "chain3",
                try opsPerSecond(seconds: roundSeconds) {
                    _ = try verifier.verify(fixture.leaf.encoded, proofs: fixture.proofs, requiring: fixture.required)
                })
            // Each invocation is accepted once, so every call needs a new one: signed before the round, about
            // twice as many as it can use.
            let invocations = try fixture.invocations(Int(results.last("raw") * roundSeconds) + 8192)
            var next = 0
            results.record(
                "invocation",
                try opsPerSecond(seconds: roundSeconds) {
                    _ = try verifier.verify(
                        invocation: invocations[next], proofs: fixture.delegationProofs, requiring: fixture.command)
                    next += 1
                })
            next = 0
            results.record(
                "root cold",
                try opsPerSecond(seconds: roundSeconds) {
                    _ = try verifier.verify(fixture.distinctRoots[next], requiring: fixture.required)
                    next = (next + 1) % fixture.distinctRoots.count
                })
        }
        let raw = results.median("raw"), root = results.median("root"), chain = results.median("chain3")
        func row(_ name: String, _ rate: Double, _ baseline: String, _ ratio: Double?) {
            let ratioText = ratio.map { "  \(format($0))x \(baseline)" } ?? ""
            print("\(name.rightPad(36)) \(format(rate, digits: 0).leftPad(9)) /s\(ratioText)")
        }
        row("libsodium verify (raw)", raw, "", nil)
        row("CharterVerifier.verify, root", root, "raw verify", root / raw)
        row("CharterVerifier.verify, depth-3 chain", chain, "raw verify / 3", chain / (raw / 3))
        let cold = results.median("root cold")
        row("  root, a new token every call", cold, "raw verify", cold / raw)
        let invocation = results.median("invocation")
        row("CharterVerifier.verify, 1.0 invocation", invocation, "raw verify / 2", invocation / (raw / 2))
        print(
            "ratios: root=\(format(root / raw)) chain3=\(format(chain / (raw / 3))) invocation=\(format(invocation / (raw / 2)))"
                + " (chain goal is against raw/3, invocation + one delegation against raw/2)")
        let hostile = try hostileCost(verifier, service: fixture.service, required: fixture.required)
        print(
            "hostile request (a token for this service citing 32 proofs by keys never seen, refused): "
                + "\(format(hostile, digits: 0)) µs median, one thread")
    }

    /// What a forged request costs the service: a token addressed to it (its DID is public) citing the most
    /// proofs a token may, each a root by a key never seen, so no cache helps. Median over 64 requests.
    private func hostileCost(_ verifier: CharterVerifier, service: DID, required: Capability) throws -> Double {
        let clock = ContinuousClock()
        let expiration = Int64(Date().timeIntervalSince1970) + 600
        let capabilities = try Capabilities([Capability(resource: "mailto:*", ability: "email/send")])
        var costs: [Double] = []
        for _ in 0..<64 {
            let attacker = Ed25519.SigningKey()
            let attackerDID = DID(publicKey: attacker.publicKey)
            let proofs = try (0..<32).map { _ in
                let key = Ed25519.SigningKey()
                return try UCAN(
                    signing: Payload(
                        issuer: DID(publicKey: key.publicKey), audience: attackerDID, expiration: expiration,
                        capabilities: capabilities),
                    with: key)
            }
            let token = try UCAN(
                signing: Payload(
                    issuer: attackerDID, audience: service, expiration: expiration, capabilities: capabilities,
                    proofs: proofs.map(\.cid)),
                with: attacker)
            let start = clock.now
            do {
                _ = try verifier.verify(token.encoded, proofs: proofs.map(\.encoded), requiring: required)
                preconditionFailure("a forged chain verified")
            } catch {}
            costs.append((clock.now - start).inSeconds * 1e6)
        }
        return costs.sorted()[costs.count / 2]
    }
}

/// A root minted by Charter for the service, and a root for an agent delegated twice down to the service.
private struct Fixture {
    let service: DID
    let root: UCAN
    let leaf: UCAN
    let proofs: [String]
    let required = Capability(resource: "mailto:ops@example.com", ability: "email/send")
    let revocations: Int
    /// Roots like ``root`` but each with its own nonce, more than the parse cache holds, so every call parses.
    let distinctRoots: [String]
    /// A UCAN 1.0 delegation of `/email/send` to the agent, whose invocations the service verifies.
    let delegation: Delegation
    /// The agent the delegation is made out to, which signs the invocations.
    let invoker = Ed25519.SigningKey()
    let command = try! Command("/email/send")
    var delegationProofs: [[UInt8]] { [delegation.bytes] }

    /// `count` distinct invocations of `/email/send` by the agent for the service, within the envelope's policy.
    func invocations(_ count: Int) throws -> [[UInt8]] {
        let expiration = Int64(Date().timeIntervalSince1970) + 120
        return try (0..<count).map { _ in
            try Invocation(
                issuer: invoker, subject: delegation.issuer, audience: service, command: command,
                arguments: ["to": "ops@example.com", "subject": "report"], proofs: [delegation.cid],
                expiration: expiration
            ).bytes
        }
    }

    init(controlPlane: ControlPlane, owner: Setup.Created) async throws {
        let caller = try await controlPlane.authenticator.authenticate(
            authorization: "Bearer \(owner.ownerKey)", ip: nil, path: "/v1/authorize")
        let context = CallContext(ip: nil, requestID: "bench")
        let mail: JSONValue = ["mailto:*": ["email/send": [[:]]]]
        func envelope() async throws -> String {
            try await controlPlane.envelopes.create(
                appID: owner.app.id, name: "bench-\(UUID().uuidString.prefix(8))", capabilities: mail,
                commands: ["/email/send": [["like", ".to", "*@example.com"]]], maxTTLSeconds: 3600, by: caller,
                context: context
            ).id
        }
        func mint(_ audience: DID, under envelope: String) async throws -> UCAN {
            try await controlPlane.tokens.authorize(
                AuthorizeRequest(audience: audience.string, capabilities: mail, ttlSeconds: 3600, envelopeID: envelope),
                by: caller, context: context
            ).token
        }
        // Revoked neighbours, so verification looks up a non-empty feed.
        var revoked = 0
        for _ in 0..<8 {
            let other = try await envelope()
            let token = try await mint(DID(publicKey: Ed25519.SigningKey().publicKey), under: other)
            _ = try await controlPlane.tokens.revoke(cid: token.cid.string, by: caller, context: context)
            _ = try await controlPlane.envelopes.revoke(id: other, by: caller, context: context)
            revoked += 2
        }
        revocations = revoked

        let active = try await envelope()
        let serviceKey = Ed25519.SigningKey()
        let agentKey = Ed25519.SigningKey()
        let subKey = Ed25519.SigningKey()
        service = DID(publicKey: serviceKey.publicKey)
        root = try await mint(service, under: active)
        let agentRoot = try await mint(DID(publicKey: agentKey.publicKey), under: active)
        let middle = try UCAN(
            signing: Payload(
                issuer: DID(publicKey: agentKey.publicKey), audience: DID(publicKey: subKey.publicKey),
                expiration: agentRoot.payload.expiration, capabilities: agentRoot.payload.capabilities,
                proofs: [agentRoot.cid]), with: agentKey)
        leaf = try UCAN(
            signing: Payload(
                issuer: DID(publicKey: subKey.publicKey), audience: service, expiration: middle.payload.expiration,
                capabilities: try Capabilities([Capability(resource: "mailto:ops@example.com", ability: "email/send")]),
                proofs: [middle.cid]), with: subKey)
        proofs = [agentRoot.encoded, middle.encoded]
        delegation = try await controlPlane.tokens.delegate(
            DelegationRequest(
                audience: DID(publicKey: invoker.publicKey).string, command: "/email/send", ttlSeconds: 3600,
                envelopeID: active),
            by: caller, context: context
        ).delegation
        let issuer = try await controlPlane.signingKeys.active(.live, for: caller, context: context).key
        var payload = root.payload
        distinctRoots = (0..<(2 * 4096 + 1)).map { index in
            payload.nonce = "bench-\(index)"
            return try! UCAN(signing: payload, with: issuer).encoded
        }
    }
}
