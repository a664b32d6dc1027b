// UCAN 1.0 modes of the libFuzzer target (see UCANFuzz.swift, which dispatches to them). A first byte of 0xF0 or
// more picks one of these, so the 0.10 corpus keeps its meaning (its first bytes are all below 0xF0):
//   0xF0  DAG-CBOR: decode strictly; what decodes re-encodes to the same bytes, and survives DAG-JSON both ways
//   0xF1  policy: DAG-JSON policy, newline, DAG-JSON arguments; parse, round-trip, evaluate
//   0xF2  envelope: parse as a delegation and an invocation; validate an invocation with no proofs, and a
//         fixed-key chain whose root carries the fuzzed policy

/// Decodes DAG-CBOR; canonical decoding means re-encoding gives the input back exactly.
func fuzzDAGCBOR(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = Array(bytes)
    guard let value = try? DAGCBOR.decode(input) else { return }
    require(DAGCBOR.encode(value) == input, "decoded DAG-CBOR did not re-encode to the same bytes")
    let back = try? DAGJSON.decode(DAGJSON.encode(value))
    require(back.map(DAGCBOR.encode) == input, "the DAG-JSON round trip did not give the value back")
}

/// Parses a policy and arguments and evaluates; a parsed policy reparses from its own IPLD.
func fuzzPolicy(_ bytes: UnsafeBufferPointer<UInt8>) {
    let parts = splitLines(bytes, limit: 2)
    guard let policyText = parts.first, let ipld = try? DAGJSON.decode(Array(policyText)),
        let policy = try? Policy(ipld)
    else { return }
    require((try? Policy(policy.ipld)) == policy, "a parsed policy did not reparse from its own IPLD")
    let arguments: IPLD = parts.count > 1 ? ((try? DAGJSON.decode(Array(parts[1]))) ?? .map([:])) : .map([:])
    _ = policy.evaluate(arguments)
    _ = policy.and(policy).evaluate(arguments)
}

/// Parses envelopes; validates what parses, and a signed chain built around a fuzzed policy.
func fuzzEnvelope(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = Array(bytes)
    if let delegation = try? Delegation(bytes: input) {
        require((try? Delegation(bytes: delegation.bytes)) == delegation, "a delegation did not reparse")
        require(delegation.cid == CID(hashing: input, codec: .dagCBOR), "a delegation's CID is not over its bytes")
    }
    if let invocation = try? Invocation(bytes: input) {
        _ = try? InvocationValidator().validate(invocation.bytes, proofs: [], now: fuzzNow)
    }
    // The same bytes as a policy for a two-link chain K0 → K1 → K2, invoked by K2 with the bytes as arguments.
    guard let value = try? DAGCBOR.decode(input), let policy = try? Policy(value) else { return }
    let keys = FuzzKeys.keys
    let dids = FuzzKeys.dids
    guard
        let root = try? Delegation(
            issuer: keys[0], audience: dids[1], subject: dids[0], command: .top, policy: policy, nonce: [1],
            expiration: fuzzNow + 60),
        let link = try? Delegation(
            issuer: keys[1], audience: dids[2], subject: nil, command: try! Command("/a"), nonce: [2],
            expiration: fuzzNow + 60),
        let invocation = try? Invocation(
            issuer: keys[2], subject: dids[0], command: try! Command("/a/b"),
            arguments: value.mapValue ?? ["value": value], proofs: [root.cid, link.cid], nonce: [3],
            expiration: fuzzNow + 30)
    else { return }
    let outcome = Result { () throws(UCANError) in
        try InvocationValidator().validate(invocation.bytes, proofs: [root.bytes, link.bytes], now: fuzzNow)
    }
    let matches = policy.evaluate(.map(invocation.arguments)) == nil
    switch outcome {
    case .success: require(matches, "an invocation validated although the policy does not hold")
    case .failure(let error):
        require(!matches && error.code == .policyMismatch, "a valid chain failed: \(error)")
    }
}

/// Seeds for the 1.0 modes.
enum Seeds1 {
    static func all() -> [(String, [UInt8])] {
        let policy: IPLD = [
            ["like", ".to", "*@example.com"], ["all", ".cc", [">", ".n", 0]], ["not", ["==", ".x", nil]],
        ]
        let arguments: IPLD = ["to": "a@example.com", "cc": [["n": 1], ["n": 2.5]], "x": .bytes([1, 2]), "big": -7]
        let delegation = try! Delegation(
            issuer: FuzzKeys.keys[0], audience: FuzzKeys.dids[1], subject: FuzzKeys.dids[0],
            command: try! Command("/msg"), policy: try! Policy(policy), nonce: [9], meta: ["m": true],
            notBefore: 1, expiration: fuzzNow + 60)
        let invocation = try! Invocation(
            issuer: FuzzKeys.keys[1], subject: FuzzKeys.dids[0], command: try! Command("/msg/send"),
            arguments: arguments.mapValue!, proofs: [delegation.cid], nonce: [8], expiration: fuzzNow + 30)
        return [
            ("seed-f0-args", [0xF0] + DAGCBOR.encode(arguments)),
            ("seed-f0-envelope", [0xF0] + delegation.bytes),
            ("seed-f1-policy", [0xF1] + DAGJSON.encode(policy) + [0x0A] + DAGJSON.encode(arguments)),
            ("seed-f2-delegation", [0xF2] + delegation.bytes),
            ("seed-f2-invocation", [0xF2] + invocation.bytes),
            ("seed-f2-policy", [0xF2] + DAGCBOR.encode(policy)),
        ]
    }
}
