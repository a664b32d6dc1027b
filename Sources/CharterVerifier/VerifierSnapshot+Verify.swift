import Foundation
import UCAN

/// The verifier's parse caches: presented tokens (parsed once, signature checked every call), proofs (parsed
/// once, signature checked until a chain they are on validates) and 1.0 delegations (parsed and
/// signature-checked once).
struct Caches: Sendable {
    let presented = TokenCache()
    let proofs = TokenCache()
    let delegations = DelegationCache()
}

extension VerifierSnapshot {
    /// The hot path: freshness, chain validation, issuer windows, revocation, then the required capability.
    func verify(
        _ text: String, proofs: [String], requiring capability: Capability?, at now: Date, caches: Caches
    ) throws(VerificationError) -> VerifiedToken {
        try checkFreshness(at: now)
        let limits = validator.policy.limits
        let presented: TokenCache.Entry
        do {
            presented = try caches.presented.entry(parsing: text, limits: limits)
        } catch {
            throw VerificationError(.malformed, error.description, field: error.field)
        }
        let token = presented.token
        guard proofs.count <= limits.maxProofs else {
            throw VerificationError(.malformed, "more than \(limits.maxProofs) proofs supplied")
        }
        var store = ProofStore()
        // The proofs whose signatures no validation has verified yet: remembered below once this chain validates.
        var unverified: [CID] = []
        for (index, proof) in proofs.enumerated() {
            do {
                let entry = try caches.proofs.entry(parsing: proof, limits: limits)
                let verified = caches.proofs.hasVerifiedSignature(entry.cid)
                if !verified { unverified.append(entry.cid) }
                store.add(entry.token, cid: entry.cid, signatureVerified: verified)
            } catch {
                throw VerificationError(
                    .malformed, "proofs[\(index)]: \(error.description)",
                    field: "proofs[\(index)]" + (error.field.map { ".\($0)" } ?? ""))
            }
        }
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let chain: ValidatedChain
        do {
            chain = try validator.validate(token, proofs: store, now: seconds)
        } catch {
            throw VerificationError(error)
        }
        // Every proof the chain used had its signature verified by the walk.
        let newlyVerified = unverified.filter { chain.proofs[$0] != nil }
        if !newlyVerified.isEmpty { caches.proofs.rememberVerified(newlyVerified) }
        for issuer in chain.rootIssuers {
            if let notAfter = trust.windows[issuer], now >= notAfter {
                throw VerificationError(.untrustedIssuer, "\(issuer) was retired and verifies nothing after its window")
            }
        }
        if token.payload.proofs.isEmpty {
            try checkOrganization(of: token)
        } else {
            for proof in chain.proofs.values where proof.payload.proofs.isEmpty { try checkOrganization(of: proof) }
        }
        let root = Self.root(of: token, in: chain)
        try checkRevocation(presented, chain)
        if let capability, !token.payload.capabilities.all.contains(where: { $0.covers(capability) }) {
            throw VerificationError(.notCovered, "the token does not grant \(capability)")
        }
        return VerifiedToken(token: token, chain: chain, root: root)
    }

    /// Fails closed when revocation data is missing or too old; an air-gapped verifier has none to check.
    func checkFreshness(at now: Date) throws(VerificationError) {
        guard configuration.server != nil else {
            if case .pinned = configuration.issuers { return }
            throw VerificationError(.notSynced, "published issuers need a server to sync from")
        }
        // Freshness is the server's signed time, not when this process last heard from something: an old answer
        // replayed by a proxy does not make the data look new.
        guard let signed = feedTime else {
            throw VerificationError(.notSynced, "issuers and revocations have not been synced yet")
        }
        let age = now.timeIntervalSince(signed)
        guard age <= configuration.maxFeedAge else {
            throw VerificationError(
                .feedStale, "revocation data is \(Int(age))s old, over the limit of \(Int(configuration.maxFeedAge))s")
        }
    }

    /// A token on the chain revoked by CID (by an issuer on the chain), or a root minted under a revoked envelope.
    private func checkRevocation(_ presented: TokenCache.Entry, _ chain: ValidatedChain) throws(VerificationError) {
        let token = presented.token
        if !revokedTokens.isEmpty {
            for hasher in revokedHashers {
                let cid = hasher == .sha256 ? presented.cid : CID(of: token, hasher: hasher)
                if let entry = revokedTokens[cid], chain.issuers.contains(entry.issuer) {
                    throw VerificationError(.revoked, "token \(entry.subject) is revoked")
                }
                for (cited, proof) in chain.proofs {
                    let cid = cited.hasher == hasher ? cited : CID(of: proof, hasher: hasher)
                    if let entry = revokedTokens[cid], chain.issuers.contains(entry.issuer) {
                        throw VerificationError(.revoked, "proof \(entry.subject) is revoked")
                    }
                }
            }
        }
        if !revokedEnvelopes.isEmpty {
            for root in Self.roots(of: token, in: chain) {
                if case .string(let envelope)? = root.payload.facts?["envelope"],
                    let entry = revokedEnvelopes[envelope]
                {
                    throw VerificationError(.revoked, "envelope \(entry.subject) is revoked")
                }
            }
        }
    }

    /// Each root must be minted for an organization this service trusts, by that organization's own issuer (or,
    /// for a shared issuer of an old server, name a trusted organization): one organization's tokens never pass
    /// at another's services.
    private func checkOrganization(of root: UCAN) throws(VerificationError) {
        guard case .string(let org)? = root.payload.facts?["org"] else {
            throw VerificationError(.untrustedIssuer, "the token is not from an organization this service trusts")
        }
        try checkOrganization(org, issuer: root.payload.issuer)
    }

    /// A root of organization `org` (its `fct.org` or `meta.org`) signed by `issuer`: the organization must be
    /// trusted, and the issuer its own.
    func checkOrganization(_ org: String?, issuer: DID) throws(VerificationError) {
        guard let org, configuration.organizations.contains(org) else {
            throw VerificationError(.untrustedIssuer, "the token is not from an organization this service trusts")
        }
        if let owner = trust.organization[issuer], owner != org {
            throw VerificationError(.untrustedIssuer, "the token's issuer does not sign for organization \(org)")
        }
    }

    /// The tokens of the chain that cite no proof: where its authority comes from.
    static func roots(of token: UCAN, in chain: ValidatedChain) -> [UCAN] {
        token.payload.proofs.isEmpty ? [token] : chain.proofs.values.filter { $0.payload.proofs.isEmpty }
    }

    /// The root reached by always following the first proof: the token whose facts describe the grant.
    static func root(of token: UCAN, in chain: ValidatedChain) -> UCAN {
        var current = token
        while let first = current.payload.proofs.first, let proof = chain.proofs[first] {
            current = proof
        }
        return current
    }
}
