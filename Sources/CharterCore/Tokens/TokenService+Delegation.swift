public import Foundation
public import UCAN

/// What `/v1/authorize` asks for in UCAN 1.0: a delegation of one command to the agent's DID.
public struct DelegationRequest: Sendable {
    public var audience: String
    public var command: String
    /// Statements the delegation adds to the envelope grant's policy: a request can only narrow.
    public var policy: JSONValue?
    public var ttlSeconds: Int?
    public var envelopeID: String?
    public var meta: JSONObject?

    public init(
        audience: String, command: String, policy: JSONValue? = nil, ttlSeconds: Int? = nil,
        envelopeID: String? = nil, meta: JSONObject? = nil
    ) {
        self.audience = audience
        self.command = command
        self.policy = policy
        self.ttlSeconds = ttlSeconds
        self.envelopeID = envelopeID
        self.meta = meta
    }
}

/// A minted 1.0 delegation and what the caller needs to use it.
public struct Delegated: Sendable {
    public let delegation: Delegation
    /// The delegation's CID (`bafyrei…`), the name to revoke it by.
    public let cid: CID
    public let envelope: Envelope
    public let expiresAt: Date
}

extension TokenService {
    /// Mints a UCAN 1.0 delegation of `request.command` to `request.audience`, from the issuer of the caller's
    /// organization and environment (its `iss` and `sub`), under the policy of the envelope grant that covers the
    /// command and the request's own statements.
    ///
    /// Returns only once the mint's audit record is durable. Every refusal is audited too.
    public func delegate(_ request: DelegationRequest, by caller: Identity, context: CallContext) async throws
        -> Delegated
    {
        try await audited(by: caller, context: context) {
            try await mintDelegation(request, by: caller, context: context)
        }
    }

    private func mintDelegation(_ request: DelegationRequest, by caller: Identity, context: CallContext)
        async throws -> Delegated
    {
        let audience = try Self.audience(request.audience)
        let command: Command
        do {
            command = try Command(request.command, field: "command")
        } catch {
            throw CharterError.invalid("command", error.message)
        }
        let narrowing = try request.policy.map { json throws(CharterError) in
            try CommandGrants.policy(json, field: "policy")
        }
        let extraMeta = try Self.meta(request.meta)
        let (envelope, grant) = try await envelope(request.envelopeID, caller: caller) {
            envelope -> Result<Policy, CharterError> in
            guard let grant = envelope.commands.grant(covering: command) else {
                return .failure(
                    CharterError(
                        .commandNotInEnvelope, "\(command) is not granted by envelope \(envelope.id)",
                        field: "command"))
            }
            return .success(grant.policy)
        }
        let policy = narrowing.map(grant.and) ?? grant
        let ttl = try TokenLifetimePolicy.mintTTL(requested: request.ttlSeconds, envelope: envelope)

        let signer = try await signingKeys.active(caller.key.environment, for: caller, context: context)
        let now = clock.now()
        let expiration = TokenLifetimePolicy.expiration(mintedAt: now, ttl: ttl)
        var meta = extraMeta
        for (name, value) in Self.charterFacts(caller, envelope: envelope) { meta[name] = .string(value) }
        let delegation: Delegation
        do {
            delegation = try Delegation(
                issuer: signer.key, audience: audience, subject: signer.record.did, command: command, policy: policy,
                nonce: SecureBytes.random(count: 16), meta: meta, expiration: expiration)
        } catch {
            guard error.code == .tooLarge else { throw error }
            throw CharterError.invalid("policy", error.message)
        }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(expiration))
        let cid = delegation.cid
        try await record(
            cid, audience: audience, envelope: envelope, signer: signer, caller: caller, at: now,
            expiresAt: expiresAt,
            audit: AuditEvent(
                "token.mint", by: caller, at: now, context: context, target: cid.string,
                details: [
                    "audience": .string(audience.string), "command": .string(command.path),
                    "envelope_id": .string(envelope.id), "expires_at": .integer(expiration), "format": "ucan/1.0",
                    "issuer": .string(signer.record.did.string), "policy": CommandGrants.json(policy.ipld),
                ]))
        return Delegated(delegation: delegation, cid: cid, envelope: envelope, expiresAt: expiresAt)
    }

    /// A 1.0 request's `meta`, as IPLD (DAG-JSON), under the same rules as 0.10 facts.
    private static func meta(_ meta: JSONObject?) throws(CharterError) -> [String: IPLD] {
        let checked = try facts(meta, field: "meta")
        guard !checked.isEmpty else { return [:] }
        let value: IPLD
        do {
            value = try DAGJSON.decode(JSONValue.object(checked).serialized())
        } catch {
            throw CharterError.invalid("meta", error.message)
        }
        guard case .map(let members) = value else { throw CharterError.invalid("meta", "must be an object") }
        return members
    }
}
