/// What an executor accepts when it validates UCAN 1.0 invocations.
public struct InvocationPolicy: Sendable {
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    public var leeway: Int64
    /// The executor's own DIDs: the invocation's `aud` (or, without one, its `sub`) must be one of them; nil
    /// accepts any.
    public var executors: Set<DID>?
    /// The subjects whose authority is accepted, that is, who may issue a chain's root; nil accepts any.
    public var trustedSubjects: Set<DID>?
    public var limits: Limits

    /// Creates a policy.
    /// - Parameters:
    ///   - leeway: clock skew tolerated, in seconds.
    ///   - executors: the DIDs the executor answers to; nil for any.
    ///   - trustedSubjects: whose roots to accept; nil for any.
    ///   - limits: size, proof count and chain depth bounds.
    public init(
        leeway: Int64 = 0, executors: Set<DID>? = nil, trustedSubjects: Set<DID>? = nil, limits: Limits = .default
    ) {
        self.leeway = leeway
        self.executors = executors
        self.trustedSubjects = trustedSubjects
        self.limits = limits
    }
}

/// An invocation whose whole chain validated.
public struct ValidatedInvocation: Sendable {
    public let invocation: Invocation
    /// The chain, root first, as `prf` lists it.
    public let delegations: [Delegation]

    /// The invocation's CID, for a replay cache.
    public var cid: CID { invocation.cid }
    /// Until when the invocation could be presented; nil when it never expires.
    public var expiration: Int64? { invocation.expiration }
}

/// Validates UCAN 1.0 invocations against the delegations their `prf` cites, as an executor must before it runs
/// a task.
///
/// Checks, in order: the invocation's signature, time and executor; that every proof was supplied and parses
/// with a valid signature; the chain's principal alignment (the root issued by the subject, each `aud` the next
/// `iss`, the last made out to the invoker); subject alignment (powerline delegations take the subject before
/// them, and never root a chain); every delegation's time bounds at `now`; that every delegation's command
/// proves the invoked one; and that every delegation's policy holds on the arguments.
public struct InvocationValidator: Sendable {
    public let policy: InvocationPolicy

    public init(policy: InvocationPolicy = InvocationPolicy()) { self.policy = policy }

    /// Validates an invocation given as envelope bytes, with the delegations it cites in any order.
    /// - Parameters:
    ///   - invocation: the invocation envelope.
    ///   - proofs: delegation envelopes; those `prf` does not cite are ignored.
    ///   - now: the current time, in seconds since the epoch.
    /// - Returns: the invocation and its chain; remember its CID until it expires to refuse replays.
    /// - Throws: ``UCANError`` with the first reason it is refused; ``UCANError/name`` gives the spec's name.
    public func validate(_ invocation: [UInt8], proofs: [[UInt8]], now: Int64) throws(UCANError)
        -> ValidatedInvocation
    {
        let invocation = try Invocation(bytes: invocation, limits: policy.limits)
        guard proofs.count <= policy.limits.maxProofs else {
            throw UCANError(.tooLarge, field: "prf", "more than \(policy.limits.maxProofs) proofs supplied")
        }
        var supplied: [CID: Delegation] = [:]
        for (index, bytes) in proofs.enumerated() {
            do {
                let delegation = try Delegation(bytes: bytes, limits: policy.limits)
                supplied[delegation.cid] = delegation
            } catch {
                throw UCANError(
                    error.code, field: "proofs[\(index)]" + (error.field.map { ".\($0)" } ?? ""), error.message)
            }
        }
        return try validate(invocation, delegations: supplied, now: now)
    }

    /// Validates a parsed invocation against parsed delegations, by CID.
    public func validate(_ invocation: Invocation, delegations supplied: [CID: Delegation], now: Int64)
        throws(UCANError) -> ValidatedInvocation
    {
        try TimeBounds.check(notBefore: nil, expiration: invocation.expiration, now: now, leeway: policy.leeway)
        if let executors = policy.executors, !executors.contains(invocation.audience ?? invocation.subject) {
            throw UCANError(
                .invalidAudience, field: invocation.audience == nil ? "sub" : "aud",
                "the invocation is for another executor")
        }
        guard invocation.proofs.count <= policy.limits.maxDepth else {
            throw UCANError(.depthExceeded, field: "prf", "the chain is longer than \(policy.limits.maxDepth)")
        }
        var chain: [Delegation] = []
        for (index, cid) in invocation.proofs.enumerated() {
            guard let delegation = supplied[cid] else {
                throw UCANError(.unknownProof, field: "prf[\(index)]", "\(cid) was not supplied")
            }
            chain.append(delegation)
        }
        try checkPrincipals(invocation, chain)
        for (index, delegation) in chain.enumerated() {
            let field = "prf[\(index)]"
            try TimeBounds.check(
                notBefore: delegation.notBefore, expiration: delegation.expiration, now: now, leeway: policy.leeway,
                field: field)
            guard delegation.command.proves(invocation.command) else {
                throw UCANError(
                    .invalidClaim, field: "\(field).cmd", "\(delegation.command) does not prove \(invocation.command)")
            }
            if let mismatch = delegation.policy.evaluate(.map(invocation.arguments)) {
                throw UCANError(.policyMismatch, field: "\(field).pol", mismatch.description)
            }
        }
        return ValidatedInvocation(invocation: invocation, delegations: chain)
    }

    /// The root is issued by the subject; each delegation is made out to the next one's issuer and the last to the
    /// invoker; every `sub` is the invocation's subject, or null (powerline) after the root.
    private func checkPrincipals(_ invocation: Invocation, _ chain: [Delegation]) throws(UCANError) {
        if let trusted = policy.trustedSubjects, !trusted.contains(invocation.subject) {
            throw UCANError(
                .untrustedIssuer, field: "sub", "\(invocation.subject) is not a subject this executor trusts")
        }
        guard let root = chain.first else {
            // No proof: only the subject itself may invoke.
            guard invocation.issuer == invocation.subject else {
                throw UCANError(.invalidAudience, field: "prf", "no delegation makes the invoker act for the subject")
            }
            return
        }
        guard let rootSubject = root.subject else {
            throw UCANError(.invalidSubject, field: "prf[0].sub", "a powerline (sub: null) cannot root a chain")
        }
        guard rootSubject == invocation.subject, root.issuer == rootSubject else {
            throw UCANError(.invalidSubject, field: "prf[0]", "the root is not issued by the invocation's subject")
        }
        for index in chain.indices.dropFirst() {
            let delegation = chain[index]
            guard delegation.issuer == chain[index - 1].audience else {
                throw UCANError(
                    .invalidAudience, field: "prf[\(index)].iss", "is not the audience of the delegation before it")
            }
            if let subject = delegation.subject, subject != invocation.subject {
                throw UCANError(.invalidSubject, field: "prf[\(index)].sub", "is not the invocation's subject")
            }
        }
        guard chain[chain.count - 1].audience == invocation.issuer else {
            throw UCANError(
                .invalidAudience, field: "prf[\(chain.count - 1)].aud",
                "the last delegation is not made out to the invoker")
        }
    }
}
