import UCAN

/// Fixed keys, so tokens built in tests are reproducible.
enum Keys {
    static let alice = key(1)
    static let bob = key(2)
    static let carol = key(3)
    static let dave = key(4)
    static let erin = key(5)
    static let frank = key(6)

    static func key(_ byte: UInt8) -> Ed25519.SigningKey {
        try! Ed25519.SigningKey(seed: Array(repeating: byte, count: 32))
    }
}

extension Ed25519.SigningKey {
    var did: DID { DID(publicKey: publicKey) }
}

/// A fixed "now" for time checks.
let now: Int64 = 1_800_000_000

/// Capabilities from the cap map form, trapping on a malformed literal (test inputs are fixed).
func caps(_ map: [String: [String: [JSONObject]]]) -> Capabilities {
    try! Capabilities(json: .object(map.mapValues { .object($0.mapValues { .array($0.map(JSONValue.object)) }) }))
}

/// Signs a token whose header and payload are arbitrary JSON text, to craft what the builder refuses to write.
func craft(header: String = UCAN.headerJSON, payload: String, signer: Ed25519.SigningKey = Keys.alice) -> String {
    let signed = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return signed + "." + Base64URL.encode(signer.signature(for: Array(signed.utf8)))
}

/// Issues a token from `issuer` to `audience`.
func issue(
    _ issuer: Ed25519.SigningKey, to audience: Ed25519.SigningKey, capabilities: Capabilities = .none,
    notBefore: Int64? = nil, expiration: Int64? = now + 3600, proofs: [UCAN] = [],
    version: SemanticVersion = .ucan
) throws -> UCAN {
    try UCAN(
        signing: Payload(
            version: version, issuer: issuer.did, audience: audience.did, notBefore: notBefore,
            expiration: expiration, capabilities: capabilities, proofs: proofs.map(\.cid)),
        with: issuer)
}
