public import Foundation
public import UCAN

/// What `/v1/authorize` asks for in UCAN 0.10: a root token of capabilities.
public struct AuthorizeRequest: Sendable {
    public var audience: String
    public var capabilities: JSONValue
    public var ttlSeconds: Int?
    public var envelopeID: String?
    public var facts: JSONObject?

    public init(
        audience: String, capabilities: JSONValue, ttlSeconds: Int? = nil, envelopeID: String? = nil,
        facts: JSONObject? = nil
    ) {
        self.audience = audience
        self.capabilities = capabilities
        self.ttlSeconds = ttlSeconds
        self.envelopeID = envelopeID
        self.facts = facts
    }
}

/// A minted 0.10 token and what the caller needs to use it.
public struct Authorized: Sendable {
    public let token: UCAN
    /// The token's sha2-256 CID, the name to revoke it by.
    public let cid: CID
    public let envelope: Envelope
    public let expiresAt: Date
}

/// Mints root UCANs (0.10) and delegations (1.0) inside envelopes, revokes them by CID, and serves the
/// revocation feed.
public final class TokenService: Sendable {
    /// The fact (0.10 `fct`) and meta (1.0 `meta`) names Charter writes into every token; a request may not set
    /// them.
    public static let reservedFacts: Set<String> = ["org", "env", "app", "envelope", "key"]
    /// The largest `facts` or `meta` object a request may add, serialized.
    public static let maxFactsBytes = 4096

    private let store: any TokenStore & OrganizationStore
    let clock: CharterClock
    let envelopes: EnvelopeService
    let signingKeys: SigningKeys
    private let auditWriter: AuditWriter
    private let mints: GroupCommit<Mint, Mint.Outcome>

    public init(
        store: any TokenStore & OrganizationStore, clock: CharterClock, envelopes: EnvelopeService,
        signingKeys: SigningKeys,
        auditWriter: AuditWriter
    ) {
        self.store = store
        self.clock = clock
        self.envelopes = envelopes
        self.signingKeys = signingKeys
        self.auditWriter = auditWriter
        mints = GroupCommit { batch in try await store.recordMints(batch) }
    }

    /// Mints a root UCAN 0.10 for `request.audience`, covered by an active envelope of the caller's app.
    ///
    /// Returns only once the mint's audit record is durable. Every refusal is audited too.
    public func authorize(_ request: AuthorizeRequest, by caller: Identity, context: CallContext) async throws
        -> Authorized
    {
        try await audited(by: caller, context: context) { try await mint(request, by: caller, context: context) }
    }

    /// Runs a mint for a caller allowed to authorize, auditing its refusal.
    func audited<Minted>(
        by caller: Identity, context: CallContext, _ mint: () async throws -> Minted
    ) async throws -> Minted {
        try caller.authorize(.authorize)
        do {
            return try await mint()
        } catch let error as CharterError {
            auditWriter.enqueue(
                AuditEvent(
                    "token.mint", by: caller, at: clock.now(), context: context,
                    outcome: error.code == .unavailable ? .failure : .denied, reason: error.code.rawValue,
                    details: ["message": .string(error.message)]))
            throw error
        }
    }

    private func mint(_ request: AuthorizeRequest, by caller: Identity, context: CallContext) async throws
        -> Authorized
    {
        let audience = try Self.audience(request.audience)
        let capabilities = try EnvelopeService.capabilities(request.capabilities)
        let extraFacts = try Self.facts(request.facts)
        let (envelope, _) = try await envelope(request.envelopeID, caller: caller) {
            envelope -> Result<Void, CharterError> in
            guard let uncovered = envelope.capabilities.firstUncovered(in: capabilities) else { return .success(()) }
            return .failure(
                CharterError(
                    .capabilityNotInEnvelope,
                    "\(uncovered.ability) on \(uncovered.resource) is not covered by envelope \(envelope.id)",
                    field: "capabilities"))
        }
        let ttl = try TokenLifetimePolicy.mintTTL(requested: request.ttlSeconds, envelope: envelope)
        return try await sign(
            capabilities, for: audience, facts: extraFacts, ttl: ttl, envelope: envelope, by: caller, context: context)
    }

    /// Signs a root 0.10 token of `capabilities`, already checked against `envelope`, and records it (see
    /// ``record(_:audience:envelope:signer:caller:at:expiresAt:audit:)``). `auditDetails` are added to the mint's
    /// audit record.
    func sign(
        _ capabilities: Capabilities, for audience: DID, facts extraFacts: JSONObject, ttl: Int, envelope: Envelope,
        by caller: Identity, context: CallContext, auditDetails: JSONObject = [:]
    ) async throws -> Authorized {
        let signer = try await signingKeys.active(caller.key.environment, for: caller, context: context)
        let now = clock.now()
        let expiration = TokenLifetimePolicy.expiration(mintedAt: now, ttl: ttl)
        var facts = extraFacts
        for (name, value) in Self.charterFacts(caller, envelope: envelope) { facts[name] = .string(value) }
        let token: UCAN
        do {
            token = try UCAN(
                signing: Payload(
                    issuer: signer.record.did, audience: audience, expiration: expiration,
                    nonce: Base64URL.encode(SecureBytes.random(count: 16)), facts: facts, capabilities: capabilities),
                with: signer.key)
        } catch {
            // A token no verifier would parse is refused (and audited) rather than handed out.
            guard error.code == .tooLarge else { throw error }
            throw CharterError.invalid("capabilities", error.message)
        }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(expiration))
        var details: JSONObject = [
            "audience": .string(audience.string), "capabilities": capabilities.json,
            "envelope_id": .string(envelope.id), "expires_at": .integer(expiration),
            "issuer": .string(signer.record.did.string),
        ]
        details.merge(auditDetails) { charter, _ in charter }
        try await record(
            token.cid, audience: audience, envelope: envelope, signer: signer, caller: caller, at: now,
            expiresAt: expiresAt,
            audit: AuditEvent(
                "token.mint", by: caller, at: now, context: context, target: token.cid.string, details: details))
        return Authorized(token: token, cid: token.cid, envelope: envelope, expiresAt: expiresAt)
    }

    /// Records a mint with its audit record, durably, before the token may be returned; refuses it when the
    /// envelope or the key was revoked meanwhile.
    func record(
        _ cid: CID, audience: DID, envelope: Envelope, signer: SigningKeys.Active, caller: Identity, at now: Date,
        expiresAt: Date, audit: AuditEvent
    ) async throws {
        let token = MintedToken(
            cid: cid, orgID: caller.organization.id, appID: caller.key.appID, environment: caller.key.environment,
            envelopeID: envelope.id, keyID: caller.key.id, signingKeyID: signer.record.id, audience: audience,
            createdAt: now, expiresAt: expiresAt)
        switch try await mints.commit(Mint(token: token, audit: audit)) {
        case .recorded:
            return
        case .envelopeRevoked:
            envelopes.forget(appID: envelope.appID)
            throw CharterError(.envelopeRevoked, "envelope \(envelope.id) is revoked")
        case .keyRevoked:
            throw CharterError(.apiKeyRevoked, "the API key is revoked")
        }
    }

    /// What Charter writes into every token it mints, so a verifier knows whose it is.
    static func charterFacts(_ caller: Identity, envelope: Envelope) -> KeyValuePairs<String, String> {
        [
            "org": caller.organization.id, "env": caller.key.environment.rawValue, "app": caller.key.appID,
            "envelope": envelope.id, "key": caller.key.id,
        ]
    }

    static func audience(_ text: String, field: String = "audience") throws(CharterError) -> DID {
        do {
            return try DID(text, field: field)
        } catch {
            throw CharterError(.invalidAudience, "\(field): \(error.message)", field: field)
        }
    }

    /// The envelope to mint under and what it grants the request: the one named, or the newest active one of the
    /// caller's app that covers the request. `grant` works out what an envelope grants, or why it does not cover
    /// the request; for the envelope chosen it runs once, and its result is returned with it.
    func envelope<Grant>(
        _ id: String?, caller: Identity, grant: (Envelope) -> Result<Grant, CharterError>
    ) async throws -> (Envelope, Grant) {
        let appID = caller.key.appID
        let orgID = caller.organization.id
        if let id {
            // Another app's envelope, even of the same organization, is as unknown as a missing one.
            var found = try await envelopes.envelopes(appID: appID, orgID: orgID).first { $0.id == id }
            if found == nil {
                found = try await envelopes.envelopes(appID: appID, orgID: orgID, reload: true).first { $0.id == id }
            }
            guard let envelope = found else { throw CharterError.notFound("envelope") }
            guard envelope.revokedAt == nil else {
                throw CharterError(.envelopeRevoked, "envelope \(envelope.id) is revoked")
            }
            return (envelope, try grant(envelope).get())
        }
        let active = try await envelopes.envelopes(appID: appID, orgID: orgID).filter { $0.revokedAt == nil }
        guard !active.isEmpty else {
            throw CharterError(.noActiveEnvelope, "the key's app has no active envelope")
        }
        // The newest envelope's refusal is the one reported when none covers the request.
        var newestRefusal: CharterError?
        for envelope in active {
            switch grant(envelope) {
            case .success(let granted): return (envelope, granted)
            case .failure(let refusal): newestRefusal = newestRefusal ?? refusal
            }
        }
        throw newestRefusal ?? CharterError(.internalError, "internal error")
    }

    static func facts(_ facts: JSONObject?, field: String = "facts") throws(CharterError) -> JSONObject {
        guard let facts else { return [:] }
        if let reserved = facts.keys.filter(reservedFacts.contains).min() {
            throw CharterError.invalid("\(field).\(reserved)", "is set by Charter")
        }
        guard JSONValue.object(facts).serialized().count <= maxFactsBytes else {
            throw CharterError.invalid(field, "must be at most \(maxFactsBytes) bytes")
        }
        return facts
    }

    /// Revokes one token of the caller's organization by CID, with an entry signed by the key that signed it.
    public func revoke(cid text: String, by caller: Identity, context: CallContext) async throws -> MintedToken {
        try caller.authorize(.revokeToken)
        guard let cid = try? CID(text),
            var token = try await store.mintedToken(cid: cid, orgID: caller.organization.id),
            caller.reaches(token.environment)
        else { throw CharterError.notFound("token") }
        guard token.revokedAt == nil else { throw CharterError(.conflict, "the token is already revoked") }
        let now = clock.now()
        guard token.expiresAt > now else { throw CharterError(.conflict, "the token has already expired") }
        let signer = try await signingKeys.key(id: token.signingKeyID)
        token.revokedAt = now
        let entry = RevocationEntry.signed(
            .token, subject: cid.string, orgID: token.orgID, environment: token.environment, by: signer, at: now,
            coversUntil: TokenLifetimePolicy.tokenRevocationCovers(token))
        guard
            try await store.revokeToken(
                token, entry: entry,
                audit: AuditEvent(
                    "token.revoke", by: caller, at: now, context: context, target: cid.string,
                    environment: token.environment,
                    details: ["envelope_id": .string(token.envelopeID), "key_id": .string(token.keyID)]))
        else { throw CharterError(.conflict, "the token is already revoked") }
        return token
    }

    /// A page of `orgID`'s feed in `environment` after `seq`: the entries still covering a token that could be
    /// valid, oldest first, under a head signed by that organization's issuer (created if it has none yet).
    /// - Parameter listing: the entries as the answer lists them; the head's digest covers exactly that.
    /// - Throws: ``CharterError`` `not_found` for an organization that does not exist.
    public func feed(
        orgID: String, environment: Environment, after seq: Int64, limit: Int, context: CallContext,
        listing: ([RevocationEntry]) -> JSONValue
    ) async throws -> FeedPage {
        guard try await store.organization(id: orgID) != nil else { throw CharterError.notFound("organization") }
        let signer = try await signingKeys.active(orgID: orgID, environment: environment, context: context)
        let now = clock.now()
        let (entries, latest) = try await store.revocations(
            orgID: orgID, environment: environment, after: seq, limit: limit,
            coveringAfter: TokenLifetimePolicy.revocationsListed(at: now))
        return FeedPage.signed(
            orgID: orgID, environment: environment, since: seq, entries: entries, listed: listing(entries),
            latest: latest, limit: limit, at: now, by: signer.key)
    }

    /// Drops feed entries and token records that can no longer matter.
    public func prune() async throws {
        try await store.prune(expiredBefore: TokenLifetimePolicy.revocationsListed(at: clock.now()))
    }
}
