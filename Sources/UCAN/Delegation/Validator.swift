/// Validates tokens and their delegation chains under a ``ValidationPolicy``.
///
/// Built to run at high rate: proofs come pre-parsed from a ``ProofStore``, and within one call a
/// proof reached along several paths has its signature and subtree checked once.
public struct Validator: Sendable {
    /// The policy applied to every call.
    public let policy: ValidationPolicy

    /// Creates a validator.
    public init(policy: ValidationPolicy = ValidationPolicy()) {
        self.policy = policy
    }

    /// Validates `token` and everything it is delegated from.
    /// - Parameters:
    ///   - token: the outermost token, as presented.
    ///   - proofs: where its `prf` CIDs are resolved.
    ///   - now: the current time in seconds since the Unix epoch.
    /// - Returns: the chain, with every issuer on it.
    /// - Throws: ``UCANError`` with the first reason the chain fails; a proof's failure names its
    ///   position, such as `prf[0].exp`.
    public func validate(_ token: UCAN, proofs: ProofStore = ProofStore(), now: Int64) throws(UCANError)
        -> ValidatedChain
    {
        if let audiences = policy.audiences, !audiences.contains(token.payload.audience) {
            throw UCANError(.audienceNotAccepted, field: "aud", "\(token.payload.audience) is not an accepted audience")
        }
        var walk = ChainWalk(policy: policy, store: proofs, now: now)
        var path: [CID] = []
        _ = try walk.check(token, depth: 1, path: &path)
        return ValidatedChain(token: token, proofs: walk.used, issuers: walk.issuers, rootIssuers: walk.roots)
    }

    /// Parses and validates a token given as text, with its proofs as text.
    /// - Throws: ``UCANError`` for the first token that does not parse or the first reason the chain fails.
    public func validate(_ token: String, proofs: [String] = [], now: Int64) throws(UCANError) -> ValidatedChain {
        let parsed = try UCAN(parsing: token, limits: policy.limits)
        return try validate(parsed, proofs: ProofStore(parsing: proofs, limits: policy.limits), now: now)
    }
}

/// The state of one validation call: what has been verified, used and seen.
private struct ChainWalk {
    let policy: ValidationPolicy
    let store: ProofStore
    let now: Int64
    /// Verified proofs and the height of the chain beneath each, so a shared proof is checked once.
    var verified: [CID: Int] = [:]
    var used: [CID: UCAN] = [:]
    /// Distinct proofs entered so far, counted on the way down so a long chain is cut off early.
    var entered = 0
    var issuers: Set<DID> = []
    var roots: Set<DID> = []

    /// The store's proofs by blake3 CID, built on the first blake3 link: hashing every proof once per
    /// validation, not once per link, so a chain of blake3 links costs linear time, not quadratic.
    var byBLAKE3: [CID: UCAN]?

    /// The supplied proof a link names, whichever hash function its CID uses.
    mutating func proof(for cid: CID) -> UCAN? {
        guard cid.hasher == .blake3 else { return store.token(for: cid) }
        if byBLAKE3 == nil {
            byBLAKE3 = Dictionary(
                store.tokens.map { (CID(of: $0, hasher: .blake3), $0) }, uniquingKeysWith: { first, _ in first })
        }
        return byBLAKE3?[cid]
    }

    init(policy: ValidationPolicy, store: ProofStore, now: Int64) {
        self.policy = policy
        self.store = store
        self.now = now
    }

    /// Checks `token` at `depth` (1 for the outermost) and returns the height of its chain.
    /// - Parameter signatureVerified: the store vouches for this proof's signature, so it is not checked again.
    mutating func check(
        _ token: UCAN, depth: Int, path: inout [CID], signatureVerified: Bool = false
    ) throws(UCANError) -> Int {
        let limits = policy.limits
        guard depth <= limits.maxDepth else {
            throw UCANError(.depthExceeded, "the chain is deeper than \(limits.maxDepth) tokens")
        }
        let payload = token.payload
        guard signatureVerified || token.hasValidSignature else {
            throw UCANError(.invalidSignature, field: "signature", "does not verify under \(payload.issuer)")
        }
        try checkTime(payload)
        issuers.insert(payload.issuer)

        if payload.proofs.isEmpty {
            if let trusted = policy.trustedIssuers, !trusted.contains(payload.issuer) {
                throw UCANError(.untrustedIssuer, field: "iss", "\(payload.issuer) is not a trusted issuer")
            }
            roots.insert(payload.issuer)
            return 1
        }

        var height = 0
        var delegated: [Capabilities] = []
        for (index, cid) in payload.proofs.enumerated() {
            guard !path.contains(cid) else {
                throw UCANError(.proofCycle, field: "prf[\(index)]", "\(cid) is already on the chain")
            }
            guard let proof = proof(for: cid) else {
                throw UCANError(.unknownProof, field: "prf[\(index)]", "\(cid) was not supplied")
            }
            try checkLink(from: payload, to: proof.payload, index: index)
            delegated.append(proof.payload.capabilities)
            if let known = verified[cid] {
                guard depth + known <= limits.maxDepth else {
                    throw UCANError(.depthExceeded, "the chain is deeper than \(limits.maxDepth) tokens")
                }
                height = max(height, known)
                continue
            }
            entered += 1
            guard entered <= limits.maxProofs else {
                throw UCANError(.tooLarge, field: "prf", "the chain uses more than \(limits.maxProofs) proofs")
            }
            path.append(cid)
            let below: Int
            do {
                below = try check(
                    proof, depth: depth + 1, path: &path, signatureVerified: store.hasVerifiedSignature(cid))
            } catch {
                throw error.inProof(index)
            }
            path.removeLast()
            verified[cid] = below
            used[cid] = proof
            height = max(height, below)
        }

        for wanted in payload.capabilities.all
        where !delegated.contains(where: { $0.all.contains { $0.covers(wanted) } }) {
            throw UCANError(.capabilityNotDelegated, field: "cap", "\(wanted) is not delegated by any proof")
        }
        return height + 1
    }

    private func checkTime(_ payload: Payload) throws(UCANError) {
        let leeway = max(0, min(policy.leeway, 1 << 40))
        if let expiration = payload.expiration, now - leeway >= expiration {
            throw UCANError(.expired, field: "exp", "expired at \(expiration), now is \(now)")
        }
        if let notBefore = payload.notBefore, now + leeway < notBefore {
            throw UCANError(.notYetValid, field: "nbf", "not valid before \(notBefore), now is \(now)")
        }
    }

    /// A proof must name the token's issuer as its audience, contain the token's window and not be newer.
    private func checkLink(from child: Payload, to proof: Payload, index: Int) throws(UCANError) {
        guard proof.audience == child.issuer else {
            throw UCANError(
                .audienceMismatch, field: "prf[\(index)].aud", "is \(proof.audience), not the issuer \(child.issuer)")
        }
        if let limit = proof.expiration, (child.expiration ?? .max) > limit {
            throw UCANError(
                .timeWindowNotNested, field: "exp", "outlasts proof prf[\(index)], which expires at \(limit)")
        }
        if let start = proof.notBefore, (child.notBefore ?? .min) < start {
            throw UCANError(
                .timeWindowNotNested, field: "nbf", "starts before proof prf[\(index)], valid from \(start)")
        }
        guard child.version >= proof.version else {
            throw UCANError(.versionDowngrade, field: "ucv", "is lower than proof prf[\(index)]'s \(proof.version)")
        }
    }
}
