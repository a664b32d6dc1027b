// libFuzzer target over UCAN token decoding and delegation-chain validation.
//
// Not part of the Swift package: scripts/fuzz.sh compiles this file together with every file of
// Sources/UCAN into one module, so `package` and `internal` APIs are reachable. See Tests/Fuzz/README.md.
//
// The first input byte picks a mode (byte % 6, or for 0xF0 and above one of UCAN1Fuzz.swift's); the rest is that
// mode's input:
//   0  token text: full decode, signature check, CIDs, payload re-serialization round trip
//   1  JSON: option byte (depth limit), then a document; parse, serialize, re-parse, pretty-print, capabilities
//   2  identifiers and encodings: option byte (sub-mode), then text: DID, CID, base64url, base58, base32,
//      varint, semantic version, RFC 3339, BLAKE3, revocation records
//   3  raw chain: policy byte, then newline-separated token texts (token first, then proofs), validated as text
//   4  signed chain: policy byte, flag byte, then newline-separated payload JSON templates that the harness signs
//      with fixed keys (placeholders %K0-%K3 = DIDs of the fixed keys, %C<i>/%B<i> = sha2-256/blake3 CID of the
//      token built from template i > the current one); template 0 is validated with the others as proofs
//   5  payload round trip: key byte, then one payload template; signed with UCAN(signing:) and re-parsed
//
// Any failed property calls fatalError, which traps, so libFuzzer reports it as a crash.
// UCAN_FUZZ_WRITE_SEEDS=<dir> writes the seed corpus and exits; UCAN_FUZZ_DEBUG=1 prints each input's outcome.
// Run with SWIFT_BACKTRACE=enable=no so that libFuzzer, not the Swift runtime, handles the trap.

import Glibc

// MARK: - Entry points

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    require(!selfTestTrap, "self-test: a failed property must be reported as a crash")
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)
    switch data[0] {
    case 0xF0:
        fuzzDAGCBOR(body)
        return 0
    case 0xF1:
        fuzzPolicy(body)
        return 0
    case 0xF2...:
        fuzzEnvelope(body)
        return 0
    default:
        break
    }
    switch data[0] % 6 {
    case 0: fuzzToken(body)
    case 1: fuzzJSON(body)
    case 2: fuzzIdentifiers(body)
    case 3: fuzzRawChain(body)
    case 4: fuzzSignedChain(body)
    default: fuzzPayloadRoundTrip(body)
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    // Lazily initialised globals, made once here: made during an input, libFuzzer's leak check would blame it.
    _ = (Command.top, Varsig.ed25519DAGCBOR, FuzzKeys.dids)
    if let dir = getenv("UCAN_FUZZ_WRITE_SEEDS") {
        let written = Seeds.write(to: String(cString: dir))
        report("wrote \(written) seeds to \(String(cString: dir))")
        exit(0)
    }
    return 0
}

// MARK: - Shared state and helpers

/// Fixed keys (seeds 1...4), so placeholders and seeds are reproducible.
enum FuzzKeys {
    static let keys: [Ed25519.SigningKey] = (1...4).map { byte in
        try! Ed25519.SigningKey(seed: Array(repeating: UInt8(byte), count: 32))
    }
    static let dids: [DID] = keys.map { DID(publicKey: $0.publicKey) }

    static func index(of did: DID) -> Int? { dids.firstIndex(of: did) }
}

/// The fixed "now" of every validation.
let fuzzNow: Int64 = 1_700_000_000

let debugOutput = getenv("UCAN_FUZZ_DEBUG") != nil
/// UCAN_FUZZ_SELFTEST_TRAP=1 fails a property on every input, to check that failures are caught and saved.
let selfTestTrap = getenv("UCAN_FUZZ_SELFTEST_TRAP") != nil

/// Traps with `message` unless `condition` holds: a property violation is a finding.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("UCAN fuzz property violated: \(message())") }
}

func report(_ message: @autoclosure () -> String) {
    var line = message() + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func debug(_ message: @autoclosure () -> String) {
    if debugOutput { report(message()) }
}

/// Splits on `\n`, keeping empty parts, at most `limit` parts (the last one keeps the remainder).
func splitLines(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> [UnsafeBufferPointer<UInt8>] {
    var parts: [UnsafeBufferPointer<UInt8>] = []
    var start = 0
    for index in bytes.indices where bytes[index] == 0x0A && parts.count < limit - 1 {
        parts.append(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        start = index + 1
    }
    parts.append(UnsafeBufferPointer(rebasing: bytes[start...]))
    return parts
}

func text(_ bytes: UnsafeBufferPointer<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

/// A validation policy chosen by one byte: leeway, trusted roots, accepted audiences and limits.
func makePolicy(_ byte: UInt8) -> ValidationPolicy {
    let dids = FuzzKeys.dids
    let leeways: [Int64] = [0, 300, -5, .max]
    let sets: [Set<DID>?] = [nil, [dids[0]], [dids[1], dids[2]], []]
    let audiences: [Set<DID>?] = [nil, [dids[3]], [dids[2], dids[3]], []]
    let limits: [Limits] = [
        .default, Limits(maxTokenBytes: 4096, maxProofs: 4, maxDepth: 3),
        Limits(maxTokenBytes: 65536, maxProofs: 64, maxDepth: 16), Limits(maxTokenBytes: 0, maxProofs: 0, maxDepth: 0),
    ]
    return ValidationPolicy(
        leeway: leeways[Int(byte & 3)], trustedIssuers: sets[Int(byte >> 2 & 3)],
        audiences: audiences[Int(byte >> 4 & 3)], limits: limits[Int(byte >> 6 & 3)])
}

// MARK: - Mode 0: token text

func fuzzToken(_ bytes: UnsafeBufferPointer<UInt8>) {
    let input = text(bytes)
    let token: UCAN
    do {
        token = try UCAN(parsing: input)
    } catch {
        debug("token: \(error.code) \(error)")
        return
    }
    require(token.encoded == input, "encoded text differs from the input")
    checkParsedToken(token)
    let signed = token.hasValidSignature
    debug("token: parsed, signature valid: \(signed)")
    do {
        let chain = try Validator().validate(token, now: fuzzNow)
        checkChain(chain, policy: ValidationPolicy())
        debug("token: validated")
    } catch {
        require(error.code != .invalidSignature || !signed, "a valid signature was refused")
        debug("token: \(error.code) \(error)")
    }
}

/// Properties every parsed token has: CIDs round-trip, the payload re-serializes to a payload that parses back equal.
func checkParsedToken(_ token: UCAN) {
    for hasher in CID.Hasher.allCases {
        let cid = CID(of: token, hasher: hasher)
        let reparsed = try? CID(cid.string)
        require(reparsed == cid, "CID \(cid) does not round-trip")
    }
    _ = token.description
    // The canonical serialization of the payload must parse back to the same payload.
    let json = UCAN.payloadJSON(token.payload)
    let signature = Base64URL.encode(token.signature)
    let rebuilt = String(decoding: UCAN.encodedHeader, as: UTF8.self) + "." + Base64URL.encode(json) + "." + signature
    let limits = Limits(maxTokenBytes: .max, maxProofs: .max, maxDepth: .max)
    do {
        let again = try UCAN(parsing: rebuilt, limits: limits)
        require(again.payload == token.payload, "re-serialized payload parses to a different payload")
        require(UCAN.payloadJSON(again.payload) == json, "payload serialization is not deterministic")
    } catch {
        require(false, "re-serialized payload does not parse: \(error)")
    }
}

// MARK: - Mode 1: JSON

func fuzzJSON(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let option = bytes.first else { return }
    let document = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.dropFirst()))
    let value: JSONValue
    do {
        if option & 0x40 == 0 {
            value = try JSONParser.parse(document)
        } else {
            value = try JSONParser.parse(document, maxDepth: Int(option & 0x3F))
        }
    } catch {
        require(error.offset >= 0 && error.offset <= document.count, "error offset \(error.offset) out of range")
        debug("json: \(error)")
        return
    }
    let serialized = value.serialized()
    do {
        let again = try JSONParser.parse(serialized, maxDepth: 64)
        require(again == value, "serialized JSON parses to a different value")
        require(again.hashValue == value.hashValue, "equal JSON values hash differently")
        require(again.serialized() == serialized, "JSON serialization is not deterministic")
        let pretty = try JSONParser.parse(value.prettyPrinted(), maxDepth: 64)
        require(pretty == value, "pretty-printed JSON parses to a different value")
    } catch {
        require(false, "serialized JSON does not parse: \(error)")
    }
    if let capabilities = try? Capabilities(json: value) {
        require(capabilities.firstUncovered(in: capabilities) == nil, "a capability set does not cover itself")
        _ = capabilities.json
    }
    debug("json: ok")
}

// MARK: - Mode 2: identifiers and encodings

func fuzzIdentifiers(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let option = bytes.first else { return }
    let rest = UnsafeBufferPointer(rebasing: bytes.dropFirst())
    let input = text(rest)
    switch option % 10 {
    case 0:
        if let did = try? DID(input) {
            require(DID(publicKey: did.publicKey).string == input, "DID \(input) is not canonical")
        }
    case 1:
        if let cid = try? CID(input) {
            require(cid.string == input, "CID \(input) is not canonical")
            require((try? CID(cid.string)) == cid, "CID does not round-trip")
        }
    case 2:
        if let decoded = Base64URL.decode(UnsafeRawBufferPointer(rest)) {
            require(Base64URL.encode(decoded) == input, "base64url decoding is not one-to-one")
        }
    case 3:
        if let decoded = Base58.decode(input) {
            require(Base58.encode(decoded) == input, "base58 decoding is not one-to-one")
        }
    case 4:
        if let decoded = Base32.decode(input) {
            require(Base32.encode(decoded) == input, "base32 decoding is not one-to-one")
        }
    case 5:
        let array = Array(rest)
        var index = 0
        while index < array.count {
            let start = index
            guard let value = Varint.read(array, at: &index) else { break }
            require(index > start && index <= array.count, "varint read did not advance correctly")
            var encoded: [UInt8] = []
            Varint.append(value, to: &encoded)
            require(encoded[...] == array[start..<index], "varint decoding is not one-to-one")
        }
    case 6:
        if let version = SemanticVersion(input) {
            require(version.description == input, "semantic version \(input) is not canonical")
        }
    case 7:
        if let seconds = RFC3339.parse(input) {
            require(seconds.isFinite, "RFC 3339 time is not finite")
        }
    case 8:
        let split = rest.isEmpty ? 0 : Int(rest[0]) % (rest.count + 1)
        var hasher = BLAKE3()
        hasher.update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: rest[..<split])))
        hasher.update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: rest[split...])))
        require(hasher.finalize() == BLAKE3.hash(rest), "BLAKE3 depends on how the input is split")
        require(SHA256.hash(UnsafeRawBufferPointer(rest)).count == 32, "SHA-256 digest length")
    default:
        if let revocation = try? Revocation(json: Array(rest)) {
            require((try? Revocation(json: revocation.json)) == revocation, "revocation does not round-trip")
            _ = revocation.hasValidSignature
        }
    }
}

// MARK: - Mode 3: chains of raw token text

func fuzzRawChain(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let option = bytes.first else { return }
    let policy = makePolicy(option)
    let lines = splitLines(UnsafeBufferPointer(rebasing: bytes.dropFirst()), limit: 48).map(text)
    let validator = Validator(policy: policy)
    do {
        let chain = try validator.validate(lines[0], proofs: Array(lines.dropFirst()), now: fuzzNow)
        checkChain(chain, policy: policy)
        debug("raw chain: validated, \(chain.proofs.count) proofs")
    } catch {
        debug("raw chain: \(error.code) \(error)")
    }
}

// MARK: - Mode 4: chains the harness signs

/// Replaces %K<d> with a fixed DID and %C<i>/%B<i> with the sha2-256/blake3 CID of built token i, or when there is
/// none, with the CID of the bytes "<i>" (well-formed, but no token has it).
func substitute(_ template: UnsafeBufferPointer<UInt8>, built: [UCAN?]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(template.count + 64)
    var index = 0
    while index < template.count {
        let byte = template[index]
        if byte == UInt8(ascii: "%"), index + 2 < template.count, (0x30...0x39).contains(template[index + 2]) {
            let digit = Int(template[index + 2] - 0x30)
            var replacement: String?
            switch template[index + 1] {
            case UInt8(ascii: "K"):
                replacement = FuzzKeys.dids[digit % FuzzKeys.dids.count].string
            case UInt8(ascii: "C"), UInt8(ascii: "B"):
                let hasher: CID.Hasher = template[index + 1] == UInt8(ascii: "C") ? .sha256 : .blake3
                if digit < built.count, let token = built[digit] {
                    replacement = CID(of: token, hasher: hasher).string
                } else {
                    replacement = [UInt8(truncatingIfNeeded: digit)].withUnsafeBytes {
                        CID(hashing: $0, hasher: hasher).string
                    }
                }
            default:
                break
            }
            if let replacement {
                out.append(contentsOf: replacement.utf8)
                index += 3
                continue
            }
        }
        out.append(byte)
        index += 1
    }
    return out
}

/// The payload of a template, checked by the real parser (under a dummy signature).
func parsePayload(_ json: [UInt8], header: [UInt8], limits: Limits) throws(UCANError) -> Payload {
    let unsigned = String(decoding: header, as: UTF8.self) + "." + Base64URL.encode(json) + "." + dummySignature
    return try UCAN(parsing: unsigned, limits: limits).payload
}

let dummySignature = Base64URL.encode([UInt8](repeating: 0, count: 64))
let alternateHeader = Array(Base64URL.encode(Array(#"{"typ":"JWT","alg":"EdDSA"}"#.utf8)).utf8)

/// Signs a template: by the issuer's fixed key if it has one (else key 0, which gives a bad signature), either
/// over the template's exact bytes or, with `canonical`, over the payload as UCAN(signing:) writes it.
func build(_ json: [UInt8], canonical: Bool, header: [UInt8], limits: Limits) throws(UCANError) -> UCAN {
    let payload = try parsePayload(json, header: header, limits: limits)
    let keyIndex = FuzzKeys.index(of: payload.issuer)
    let key = FuzzKeys.keys[keyIndex ?? 0]
    if canonical, keyIndex != nil {
        let token = try UCAN(signing: payload, with: key)
        require(token.payload == payload, "UCAN(signing:) changed the payload")
        return try UCAN(parsing: token.encoded, limits: limits)
    }
    let signed = String(decoding: header, as: UTF8.self) + "." + Base64URL.encode(json)
    let text = signed + "." + Base64URL.encode(key.signature(for: Array(signed.utf8)))
    let token = try UCAN(parsing: text, limits: limits)
    require(token.payload == payload, "the same payload parsed differently")
    require(token.hasValidSignature == (keyIndex != nil), "signature check disagrees with the signing key")
    return token
}

/// Flag bits: 0x01 canonical signing, 0x02 alternate header, 0x04 proofs stored as signature-verified,
/// 0x08 validate through the text API.
func fuzzSignedChain(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard bytes.count >= 2 else { return }
    let policy = makePolicy(bytes[0])
    let flags = bytes[1]
    let header = flags & 0x02 == 0 ? UCAN.encodedHeader : alternateHeader
    let templates = splitLines(UnsafeBufferPointer(rebasing: bytes.dropFirst(2)), limit: 10)
    var built = [UCAN?](repeating: nil, count: templates.count)
    for index in templates.indices.reversed() {
        let json = substitute(templates[index], built: built)
        do {
            built[index] = try build(json, canonical: flags & 0x01 != 0, header: header, limits: policy.limits)
        } catch {
            debug("signed chain: template \(index): \(error.code) \(error)")
        }
    }
    guard let token = built[0] else { return }
    let proofs = built.dropFirst().compactMap { $0 }
    let validator = Validator(policy: policy)
    let chain: ValidatedChain
    do {
        if flags & 0x08 != 0 {
            chain = try validator.validate(token.encoded, proofs: proofs.map(\.encoded), now: fuzzNow)
        } else {
            var store = ProofStore()
            for proof in proofs {
                if flags & 0x04 != 0 {
                    store.add(proof, cid: proof.cid, signatureVerified: proof.hasValidSignature)
                } else {
                    store.add(proof)
                }
            }
            chain = try validator.validate(token, proofs: store, now: fuzzNow)
        }
    } catch {
        debug("signed chain: \(error.code) \(error)")
        return
    }
    checkChain(chain, policy: policy)
    // A revocation by any issuer on the chain is accepted; by anyone else it is refused.
    for (index, key) in FuzzKeys.keys.enumerated() {
        for hasher in CID.Hasher.allCases {
            let revocation = Revocation(revoking: CID(of: token, hasher: hasher), with: key)
            let accepted = (try? revocation.verify(against: chain)) != nil
            require(accepted == chain.issuers.contains(FuzzKeys.dids[index]), "revocation by key \(index) misjudged")
        }
    }
    debug("signed chain: validated, \(chain.proofs.count) proofs, roots \(chain.rootIssuers.sorted())")
}

// MARK: - Mode 5: payload round trip through UCAN(signing:)

func fuzzPayloadRoundTrip(_ bytes: UnsafeBufferPointer<UInt8>) {
    guard let option = bytes.first else { return }
    let json = substitute(UnsafeBufferPointer(rebasing: bytes.dropFirst()), built: [])
    let payload: Payload
    do {
        payload = try parsePayload(json, header: UCAN.encodedHeader, limits: .default)
    } catch {
        debug("payload: \(error.code) \(error)")
        return
    }
    // Sign with the issuer's key, or with the wrong key, which UCAN(signing:) must refuse.
    let keyIndex = option & 0x80 != 0 ? Int(option) % 4 : FuzzKeys.index(of: payload.issuer) ?? 0
    let key = FuzzKeys.keys[keyIndex]
    let token: UCAN
    do {
        token = try UCAN(signing: payload, with: key)
    } catch {
        let expected =
            FuzzKeys.dids[keyIndex] != payload.issuer
            || (payload.notBefore != nil && payload.expiration != nil && payload.notBefore! > payload.expiration!)
        require(expected, "UCAN(signing:) refused a parsed payload: \(error)")
        debug("payload: signing refused: \(error)")
        return
    }
    require(FuzzKeys.dids[keyIndex] == payload.issuer, "UCAN(signing:) accepted a key that is not the issuer's")
    require(token.hasValidSignature, "a freshly signed token does not verify")
    do {
        let again = try UCAN(parsing: token.encoded)
        require(again == token, "a signed token parses to a different token")
        let resigned = try UCAN(signing: again.payload, with: key)
        require(resigned.encoded == token.encoded, "signing is not deterministic")
    } catch {
        require(false, "a token built by UCAN(signing:) does not parse: \(error)")
    }
    checkParsedToken(token)
    debug("payload: ok")
}

// MARK: - Chain invariants

/// What every accepted chain must satisfy, whatever path the validator took to accept it.
func checkChain(_ chain: ValidatedChain, policy: ValidationPolicy) {
    let leeway = max(0, min(policy.leeway, 1 << 40))
    if let audiences = policy.audiences {
        require(audiences.contains(chain.token.payload.audience), "accepted an audience outside the policy")
    }
    require(!chain.rootIssuers.isEmpty, "a chain without a root")
    require(chain.rootIssuers.isSubset(of: chain.issuers), "a root issuer is not an issuer")
    if let trusted = policy.trustedIssuers {
        require(chain.rootIssuers.isSubset(of: trusted), "accepted an untrusted root")
    }
    require(chain.proofs.count <= max(policy.limits.maxProofs, 0), "more proofs than the limit")
    for (cid, proof) in chain.proofs {
        require(CID(of: proof, hasher: cid.hasher) == cid, "a proof is filed under another token's CID")
    }
    var heights: [CID: Int] = [:]
    func height(_ token: UCAN, depth: Int) -> Int {
        require(depth <= policy.limits.maxDepth, "accepted a chain deeper than the limit")
        let payload = token.payload
        require(token.hasValidSignature, "accepted a token whose signature does not verify")
        if let expiration = payload.expiration {
            require(fuzzNow - leeway < expiration, "accepted an expired token")
        }
        if let notBefore = payload.notBefore {
            require(fuzzNow + leeway >= notBefore, "accepted a token before its nbf")
        }
        require(chain.issuers.contains(payload.issuer), "an issuer on the chain is missing from issuers")
        if payload.proofs.isEmpty {
            require(chain.rootIssuers.contains(payload.issuer), "a root's issuer is missing from rootIssuers")
            return 1
        }
        var below = 0
        var delegated: [Capability] = []
        for cid in payload.proofs {
            guard let proof = chain.proofs[cid] else {
                require(false, "a proof of an accepted chain is missing from proofs")
                return 0
            }
            require(proof.payload.audience == payload.issuer, "accepted a proof addressed to someone else")
            if let limit = proof.payload.expiration {
                require((payload.expiration ?? .max) <= limit, "accepted a token outliving its proof")
            }
            if let start = proof.payload.notBefore {
                require((payload.notBefore ?? .min) >= start, "accepted a token starting before its proof")
            }
            require(payload.version >= proof.payload.version, "accepted a version downgrade")
            delegated += proof.payload.capabilities.all
            if let known = heights[cid] {
                require(depth + known <= policy.limits.maxDepth, "accepted a chain deeper than the limit")
                below = max(below, known)
            } else {
                let measured = height(proof, depth: depth + 1)
                heights[cid] = measured
                below = max(below, measured)
            }
        }
        for wanted in payload.capabilities.all {
            require(delegated.contains { $0.covers(wanted) }, "accepted \(wanted), which no proof delegates")
        }
        return below + 1
    }
    _ = height(chain.token, depth: 1)
}

// MARK: - Seed corpus

enum Seeds {
    static let mail =
        #"{"mailto:alice@example.com":{"email/send":[{"to":"bob@example.com"},{"to":"carol@example.com"}]}}"#

    /// Payload templates of a three-token chain: K3 is invoked by K2, delegated K0 → K1 → K2.
    static let chain: [String] = [
        #"{"aud":"%K3","cap":{"mailto:alice@example.com":{"email/send":[{"to":"bob@example.com"}]}},"#
            + #""exp":1900000000,"iss":"%K2","nbf":1600000000,"nnc":"n-1","prf":["%C1"],"ucv":"0.10.2"}"#,
        #"{"aud":"%K2","cap":{"mailto:alice@example.com":{"email/*":[{}]},"https://api.example.com/*":{"*":[{}]}},"#
            + #""exp":2000000000,"fct":{"note":"delegated"},"iss":"%K1","nbf":1500000000,"prf":["%B2"],"#
            + #""ucv":"0.10.1"}"#,
        #"{"aud":"%K1","cap":{"*":{"*":[{}]}},"exp":null,"fct":{"a":[1,2.5,-0.0,"x\u00e9\ud83d\ude00",null,true]},"#
            + #""iss":"%K0","ucv":"0.10.0"}"#,
    ]

    /// A chain where the invocation has two proofs that share a root (a diamond).
    static let diamond: [String] = [
        #"{"aud":"%K3","cap":{"https://api.example.com/v1":{"crud/read":[{"path":["a"]}]}},"exp":1800000000,"#
            + #""iss":"%K2","prf":["%C1","%C2"],"ucv":"0.10.0"}"#,
        #"{"aud":"%K2","cap":{"https://api.example.com/v1":{"crud/read":[{"path":["a","b"]}]}},"#
            + #""exp":1900000000,"iss":"%K1","prf":["%C3"],"ucv":"0.10.0"}"#,
        #"{"aud":"%K2","cap":{"https://api.example.com/*":{"crud/*":[{}]}},"exp":1900000000,"iss":"%K1","#
            + #""prf":["%C3"],"ucv":"0.10.0"}"#,
        #"{"aud":"%K1","cap":{"https://api.example.com/*":{"*":[{}]}},"exp":2000000000,"iss":"%K0","ucv":"0.10.0"}"#,
    ]

    static func templates(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\n").utf8) }

    /// Builds a chain's tokens from templates as mode 4 does.
    static func tokens(_ lines: [String]) -> [UCAN] {
        let bytes = templates(lines)
        return bytes.withUnsafeBufferPointer { buffer in
            let templates = splitLines(buffer, limit: 10)
            var built = [UCAN?](repeating: nil, count: templates.count)
            for index in templates.indices.reversed() {
                let json = substitute(templates[index], built: built)
                built[index] = try? build(json, canonical: false, header: UCAN.encodedHeader, limits: .default)
            }
            return built.map { $0! }
        }
    }

    static func all() -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        func add(_ name: String, _ mode: Character, _ bytes: [UInt8]) {
            seeds.append(("seed-\(mode)-\(name)", [mode.asciiValue!] + bytes))
        }
        let chainTokens = tokens(chain)
        let diamondTokens = tokens(diamond)
        // Mode 0: token texts.
        for (index, token) in (chainTokens + diamondTokens).enumerated() {
            add("token\(index)", "0", Array(token.encoded.utf8))
        }
        let odd = #"{"aud":"%K0","cap":{},"exp":1800000000,"iss":"%K0","nbf":1,"ucv":"0.10.0"}"#
        let oddJSON = Array(odd.utf8).withUnsafeBufferPointer { substitute($0, built: []) }
        if let token = try? build(oddJSON, canonical: false, header: alternateHeader, limits: .default) {
            add("alt-header", "0", Array(token.encoded.utf8))
        }
        // Mode 1: JSON documents, after an option byte (0x00: default depth; 0x48: depth 8).
        let documents = [
            #"{"a":[1,-2,3.5e10,-0,0.1,1E-7,12345678901234567890,-9223372036854775808],"b":{"c":null}}"#,
            #"["\u0041\n\t\\\"\/","\ud83d\ude00","é",true,false,[],{}]"#,
            #"  {"nested":[[[[[[[[[[{"deep":1}]]]]]]]]]]}  "#,
            Seeds.mail,
            #"{"iss":"did:key:z6Mk","revoke":"b","challenge":""}"#,
            "123.456e-789",
        ]
        for (index, document) in documents.enumerated() {
            add("json\(index)", "1", [index == 2 ? 0x48 : 0x00] + Array(document.utf8))
        }
        // Mode 2: identifiers and encodings, after a sub-mode byte.
        let cid = chainTokens[0].cid
        let revocation = Revocation(revoking: cid, with: FuzzKeys.keys[2])
        let identifiers: [(UInt8, String)] = [
            (0, FuzzKeys.dids[0].string), (1, cid.string), (1, CID(of: chainTokens[0], hasher: .blake3).string),
            (2, Base64URL.encode(Array("any carnal pleas".utf8))), (3, "1112NEpo7TZRRrLZSi2U"), (4, "mfrggzdfmztwq"),
            (5, "\u{01}\u{55}\u{12}\u{20}"), (6, "0.10.0"), (7, "2027-01-31T01:00:00.5+01:00"),
            (8, String(repeating: "blake3 chunk ", count: 200)), (9, String(decoding: revocation.json, as: UTF8.self)),
        ]
        for (index, (option, text)) in identifiers.enumerated() {
            add("ident\(index)", "2", [option] + Array(text.utf8))
        }
        // Mode 3: raw chains (policy 0x04: trust K0 only).
        for (name, tokens) in [("chain", chainTokens), ("diamond", diamondTokens)] {
            add("raw-\(name)", "3", [0x04] + Array(tokens.map(\.encoded).joined(separator: "\n").utf8))
        }
        // Mode 4: templates (policy byte, flag byte).
        add("signed-chain", "4", [0x04, 0x00] + templates(chain))
        add("signed-chain-canonical", "4", [0x14, 0x05] + templates(chain))
        add("signed-diamond", "4", [0x00, 0x08] + templates(diamond))
        add("signed-diamond-small", "4", [0x45, 0x02] + templates(diamond))
        // Mode 5: single payloads.
        for (index, template) in (chain + diamond + [odd]).enumerated() {
            add("payload\(index)", "5", [0x00] + Array(template.utf8))
        }
        return seeds + Seeds1.all()
    }

    static func write(to directory: String) -> Int {
        mkdir(directory, 0o755)
        var count = 0
        for (name, bytes) in all() {
            guard let file = fopen(directory + "/" + name, "wb") else {
                report("cannot write \(directory)/\(name)")
                exit(1)
            }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
            count += 1
        }
        return count
    }
}
