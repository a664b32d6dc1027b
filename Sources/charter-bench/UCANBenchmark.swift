import CSodium
import UCAN

/// `charter-bench ucan`: raw libsodium sign/verify beside Charter's build, root verify and depth-3 chain.
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
