import Foundation
import UCAN

extension VerifierSnapshot {
    /// The UCAN 1.0 hot path: freshness; the invocation's audience and lifetime; its chain (signatures, principals,
    /// times, commands, every policy against the arguments) rooted at a trusted issuer as subject; the root's
    /// issuer window and organization; revocation; the required command; and replay last, so an invocation
    /// refused for another reason is not remembered.
    func verify(
        invocation bytes: [UInt8], proofs: [[UInt8]], requiring command: Command?, at now: Date, replays: ReplayCache,
        caches: Caches
    ) throws(VerificationError) -> VerifiedInvocation {
        try checkFreshness(at: now)
        let limits = validator.policy.limits
        let invocation: Invocation
        do {
            invocation = try Invocation(bytes: bytes, limits: limits)
        } catch {
            throw VerificationError(error)
        }
        guard let audience = invocation.audience, configuration.audiences.contains(audience) else {
            throw VerificationError(.wrongAudience, "the invocation is not addressed to this service", field: "aud")
        }
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let longest = configuration.maxInvocationLifetime
        guard let expiration = invocation.expiration, expiration <= seconds + longest else {
            throw VerificationError(.malformed, "an invocation must expire within \(longest) seconds", field: "exp")
        }
        guard proofs.count <= limits.maxProofs else {
            throw VerificationError(.malformed, "more than \(limits.maxProofs) proofs supplied")
        }
        var delegations: [CID: Delegation] = [:]
        for (index, proof) in proofs.enumerated() {
            do {
                let entry = try caches.delegations.entry(parsing: proof, limits: limits)
                delegations[entry.cid] = entry.delegation
            } catch {
                throw VerificationError(
                    VerificationError(error).code, "proofs[\(index)]: \(error.message)",
                    field: "proofs[\(index)]" + (error.field.map { ".\($0)" } ?? ""))
            }
        }
        let validated: ValidatedInvocation
        do {
            validated = try InvocationValidator(
                policy: InvocationPolicy(leeway: configuration.leeway, trustedSubjects: trust.dids, limits: limits)
            ).validate(invocation, delegations: delegations, now: seconds)
        } catch {
            throw VerificationError(error)
        }
        // A chain is rooted by its subject; without a delegation the subject (a Charter issuer) would be the
        // invoker, and Charter's issuers invoke nothing.
        guard let root = validated.delegations.first else {
            throw VerificationError(.untrustedIssuer, "the invocation cites no delegation from Charter", field: "prf")
        }
        if let notAfter = trust.windows[root.issuer], now >= notAfter {
            throw VerificationError(
                .untrustedIssuer, "\(root.issuer) was retired and verifies nothing after its window")
        }
        let verified = VerifiedInvocation(invocation: invocation, delegations: validated.delegations)
        try checkOrganization(verified.org, issuer: root.issuer)
        try checkRevocation(verified, cids: delegations)
        if let command, invocation.command != command {
            throw VerificationError(
                .notCovered, "the invocation is for \(invocation.command), and this needs \(command)", field: "cmd")
        }
        // Remembered for as long as validation would accept it, leeway included.
        let cid = invocation.cid
        switch replays.record(cid, expiresAt: expiration + max(0, configuration.leeway), now: seconds) {
        case .fresh:
            return verified
        case .replayed:
            throw VerificationError(.replayed, "invocation \(cid) was presented before")
        case .full, .unbounded:
            throw VerificationError(.overloaded, "too many live invocations to remember; try again shortly")
        }
    }

    /// A delegation on the chain revoked by CID (by an issuer on the chain), or a root minted under a revoked
    /// envelope.
    /// - Parameter supplied: the delegations supplied, by CID; the chain's are among them.
    private func checkRevocation(_ verified: VerifiedInvocation, cids supplied: [CID: Delegation])
        throws(VerificationError)
    {
        if !revokedTokens.isEmpty {
            let issuers = Set(verified.delegations.map(\.issuer))
            for cid in verified.invocation.proofs where supplied[cid] != nil {
                if let entry = revokedTokens[cid], issuers.contains(entry.issuer) {
                    throw VerificationError(.revoked, "delegation \(entry.subject) is revoked")
                }
            }
        }
        if let envelope = verified.envelope, let entry = revokedEnvelopes[envelope] {
            throw VerificationError(.revoked, "envelope \(entry.subject) is revoked")
        }
    }
}
