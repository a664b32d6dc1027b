import CSodium
import UCAN

/// `charter-bench ucan`: raw libsodium sign/verify beside Charter's build, root verify and depth-3 chain, for
/// UCAN 0.10 and 1.0 (delegation seal and unseal, and an invocation validated with a chain of 3).
struct UCANBenchmark {
    let roundSeconds: Double
    let rounds = 5

    func run() {
        _ = sodium_init()
        let fixture = Fixture()
        var results = Rounds()
        let token = Array(fixture.root.encoded.utf8)
        let signingInput = Array(token[..<token.lastIndex(of: UInt8(ascii: "."))!])
        let secret = fixture.rootKey.exportSecretKey()
        let publicKey = fixture.rootKey.publicKey.bytes
        var signature = [UInt8](repeating: 0, count: 64)
        crypto_sign_detached(&signature, nil, signingInput, UInt64(signingInput.count), secret)

        print("charter-bench ucan: \(rounds) interleaved rounds of \(roundSeconds)s, medians, one thread")
        print("token size \(fixture.root.encoded.utf8.count) bytes, signed part \(signingInput.count) bytes")
        for _ in 0..<rounds {
            results.record(
                "raw sign",
                opsPerSecond(seconds: roundSeconds) {
                    crypto_sign_detached(&signature, nil, signingInput, UInt64(signingInput.count), secret)
                })
            results.record(
                "raw verify",
                opsPerSecond(seconds: roundSeconds) {
                    precondition(
                        crypto_sign_verify_detached(signature, signingInput, UInt64(signingInput.count), publicKey) == 0
                    )
                })
            results.record(
                "build",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! UCAN(signing: fixture.rootPayload, with: fixture.rootKey)
                })
            results.record(
                "verify",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! fixture.validator.validate(fixture.root.encoded, now: fixture.now)
                })
            results.record(
                "parse",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! UCAN(parsing: fixture.root.encoded)
                })
            results.record(
                "chain3",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! fixture.validator.validate(
                        fixture.leaf.encoded, proofs: fixture.chainProofs, now: fixture.now)
                })
            results.record(
                "1.0 seal",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! fixture.v1.seal()
                })
            results.record(
                "1.0 unseal",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! Delegation(bytes: fixture.v1.root.bytes)
                })
            results.record(
                "1.0 invocation+chain3",
                opsPerSecond(seconds: roundSeconds) {
                    _ = try! fixture.v1.validator.validate(
                        fixture.v1.invocation.bytes, proofs: fixture.v1.proofs, now: fixture.now)
                })
        }

        let rawSign = results.median("raw sign"), rawVerify = results.median("raw verify")
        let build = results.median("build"), verify = results.median("verify"), chain = results.median("chain3")
        func row(_ name: String, _ rate: Double, _ baseline: String, _ ratio: Double?) {
            let ratioText = ratio.map { "  \(format($0))x \(baseline)" } ?? ""
            print("\(name.rightPad(30)) \(format(rate, digits: 0).leftPad(9)) /s\(ratioText)")
        }
        row("libsodium sign (raw)", rawSign, "", nil)
        row("libsodium verify (raw)", rawVerify, "", nil)
        row("UCAN build+sign", build, "raw sign", build / rawSign)
        row("UCAN parse only (no signature)", results.median("parse"), "", nil)
        row("UCAN verify, root token", verify, "raw verify", verify / rawVerify)
        row("UCAN verify, depth-3 chain", chain, "raw verify / 3", chain / (rawVerify / 3))
        print(
            "ratios: build=\(format(build / rawSign)) verify=\(format(verify / rawVerify)) chain3=\(format(chain / (rawVerify / 3)))"
        )
        let seal = results.median("1.0 seal"), unseal = results.median("1.0 unseal")
        let invocation = results.median("1.0 invocation+chain3")
        print(
            "UCAN 1.0: delegation \(fixture.v1.root.bytes.count) bytes, invocation \(fixture.v1.invocation.bytes.count) bytes"
        )
        row("UCAN 1.0 delegation seal", seal, "raw sign", seal / rawSign)
        row("UCAN 1.0 delegation unseal", unseal, "raw verify", unseal / rawVerify)
        row("UCAN 1.0 invocation, chain of 3", invocation, "raw verify / 4", invocation / (rawVerify / 4))
        print(
            "ratios 1.0: seal=\(format(seal / rawSign)) unseal=\(format(unseal / rawVerify)) invocation+chain3=\(format(invocation / (rawVerify / 4)))"
        )
    }
}

/// A realistic token and a depth-3 chain (root → agent → sub-agent), built once.
private struct Fixture {
    let now: Int64 = 1_800_000_000
    let rootKey = try! Ed25519.SigningKey(seed: Array(repeating: 1, count: 32))
    let agentKey = try! Ed25519.SigningKey(seed: Array(repeating: 2, count: 32))
    let subKey = try! Ed25519.SigningKey(seed: Array(repeating: 3, count: 32))
    let serviceKey = try! Ed25519.SigningKey(seed: Array(repeating: 4, count: 32))
    let rootPayload: Payload
    let root: UCAN
    let leaf: UCAN
    let chainProofs: [String]
    let validator = Validator(policy: ValidationPolicy(leeway: 30))
    let v1: Fixture1

    init() {
        let caps = try! Capabilities(
            json: .object([
                "https://api.example.com/mail": .object(["email/send": .array([.object(["max": .integer(100)])])]),
                "https://api.example.com/docs": .object(["docs/read": .array([.object([:])])]),
            ]))
        rootPayload = Payload(
            issuer: DID(publicKey: rootKey.publicKey), audience: DID(publicKey: agentKey.publicKey),
            expiration: now + 900, nonce: "9fJ2kq0xR1s",
            facts: [
                "org": .string("org_01HZX3"), "env": .string("live"), "app": .string("app_01HZX4"),
                "envelope": .string("env_01HZX5"), "key": .string("key_01HZX6"),
            ], capabilities: caps)
        root = try! UCAN(signing: rootPayload, with: rootKey)
        let middle = try! UCAN(
            signing: Payload(
                issuer: DID(publicKey: agentKey.publicKey), audience: DID(publicKey: subKey.publicKey),
                expiration: now + 600, capabilities: caps, proofs: [root.cid]), with: agentKey)
        let narrow = try! Capabilities(
            json: .object([
                "https://api.example.com/mail": .object(["email/send": .array([.object(["max": .integer(100)])])])
            ]))
        leaf = try! UCAN(
            signing: Payload(
                issuer: DID(publicKey: subKey.publicKey), audience: DID(publicKey: serviceKey.publicKey),
                expiration: now + 300, capabilities: narrow, proofs: [middle.cid]), with: subKey)
        chainProofs = [root.encoded, middle.encoded]
        v1 = Fixture1(now: now, keys: [rootKey, agentKey, subKey, serviceKey])
    }
}

/// The same parties in UCAN 1.0: a root delegation as Charter would mint it (a command, a policy, meta), two
/// narrower links, and an invocation by the last audience (four signatures to check in all).
private struct Fixture1 {
    let keys: [Ed25519.SigningKey]
    let now: Int64
    let policy = try! Policy([["like", ".to", "*@example.com"], ["<", ".count", 100]])
    let meta: [String: IPLD] = [
        "org": "org_01HZX3", "env": "live", "app": "app_01HZX4", "envelope": "env_01HZX5", "key": "key_01HZX6",
    ]
    let root: Delegation
    let invocation: Invocation
    let proofs: [[UInt8]]
    let validator = InvocationValidator(policy: InvocationPolicy(leeway: 30))

    init(now: Int64, keys: [Ed25519.SigningKey]) {
        self.now = now
        self.keys = keys
        let dids = keys.map { DID(publicKey: $0.publicKey) }
        root = try! Delegation(
            issuer: keys[0], audience: dids[1], subject: dids[0], command: Command("/email"), policy: policy,
            nonce: Array(repeating: 7, count: 16), meta: meta, expiration: now + 900)
        let middle = try! Delegation(
            issuer: keys[1], audience: dids[2], subject: dids[0], command: Command("/email/send"),
            expiration: now + 600)
        let last = try! Delegation(
            issuer: keys[2], audience: dids[3], subject: dids[0], command: Command("/email/send"),
            policy: try! Policy([["==", ".priority", "low"]]), expiration: now + 300)
        invocation = try! Invocation(
            issuer: keys[3], subject: dids[0], command: Command("/email/send"),
            arguments: ["to": "ops@example.com", "count": 3, "priority": "low", "subject": "weekly report"],
            proofs: [root.cid, middle.cid, last.cid], expiration: now + 60)
        proofs = [root.bytes, middle.bytes, last.bytes]
    }

    /// A mint-like seal: the root's fields, a fresh signature.
    func seal() throws -> Delegation {
        try Delegation(
            issuer: keys[0], audience: root.audience, subject: root.subject, command: root.command, policy: policy,
            nonce: root.nonce, meta: meta, expiration: now + 900)
    }
}

func format(_ value: Double, digits: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return digits == 0 ? String(Int(rounded)) : String(rounded)
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func rightPad(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
