import UCAN

/// What an OAuth 2.0 client-credentials request (`/oauth2/token`) asks for: the abilities of its `scope`, for
/// the service its `resource` names.
public struct ClientCredentialsRequest: Sendable {
    /// The abilities asked for, such as `email/send`; empty for everything the envelope grants.
    public var scopes: [String]
    /// RFC 8707 `resource`: a `did:key`, or a URL an envelope's ``Envelope/audiences`` names; nil for the
    /// envelope's only one.
    public var resource: String?

    public init(scopes: [String], resource: String?) {
        self.scopes = scopes
        self.resource = resource
    }
}

/// A token minted for a client-credentials request, with the abilities it grants (its OAuth `scope`).
public struct ClientCredentialsGrant: Sendable {
    public let authorized: Authorized
    /// The abilities granted, as asked (or, when none were, every ability of the envelope), without repeats.
    public let scopes: [String]
}

extension TokenService {
    /// Mints a root UCAN 0.10 for an OAuth client: the grants of the newest active envelope of the caller's app
    /// that grants every ability asked and names the service, each narrowed to the ability asked, on the
    /// envelope's resources with their caveats; for the envelope's default lifetime.
    ///
    /// The same checks, audit and durability as ``authorize(_:by:context:)``: a refusal is a ``CharterError``
    /// with field `scope` (`capability_not_in_envelope`, `no_active_envelope`, `envelope_revoked`) or
    /// `resource` (`invalid_audience`), audited.
    public func authorize(_ request: ClientCredentialsRequest, by caller: Identity, context: CallContext)
        async throws -> ClientCredentialsGrant
    {
        try await audited(by: caller, context: context) {
            let scopes = Self.withoutRepeats(request.scopes.map { $0.lowercased() })
            let directAudience = try request.resource.flatMap { resource throws(CharterError) -> DID? in
                resource.hasPrefix("did:") ? try Self.audience(resource, field: "resource") : nil
            }
            func grant(in envelope: Envelope) -> Result<(Capabilities, DID, [String]), CharterError> {
                Result { () throws(CharterError) in
                    let (capabilities, granted) = try Self.capabilities(for: scopes, in: envelope)
                    let audience =
                        if let directAudience { directAudience } else {
                            try Self.audience(named: request.resource, in: envelope)
                        }
                    return (capabilities, audience, granted)
                }
            }
            let (envelope, (capabilities, audience, granted)) = try await envelope(nil, caller: caller, grant: grant)
            let ttl = try TokenLifetimePolicy.mintTTL(requested: nil, envelope: envelope)
            let authorized = try await sign(
                capabilities, for: audience, facts: [:], ttl: ttl, envelope: envelope, by: caller, context: context,
                auditDetails: [
                    "grant_type": "client_credentials", "scope": .string(granted.joined(separator: " ")),
                    "resource": request.resource.map(JSONValue.string) ?? .null,
                ])
            return ClientCredentialsGrant(authorized: authorized, scopes: granted)
        }
    }

    /// The service `resource` names in `envelope`: the DID its URL maps to, or, with no resource, the
    /// envelope's only service.
    static func audience(named resource: String?, in envelope: Envelope) throws(CharterError) -> DID {
        guard let resource else {
            guard envelope.audiences.byURL.count == 1, let only = envelope.audiences.byURL.values.first else {
                throw CharterError(
                    .invalidAudience,
                    "name the service the token is for with resource: a did:key, or a URL envelope \(envelope.id) "
                        + "names in its audiences", field: "resource")
            }
            return only
        }
        guard let did = envelope.audiences.byURL[resource] else {
            throw CharterError(
                .invalidAudience,
                "resource \(resource.prefix(200)) is not a service envelope \(envelope.id) names in its audiences",
                field: "resource")
        }
        return did
    }

    /// The envelope's grants of each ability in `scopes` (all of its grants when empty), narrowed to it:
    /// on each resource, the grant of exactly that ability if there is one, else the first that covers it.
    static func capabilities(for scopes: [String], in envelope: Envelope) throws(CharterError)
        -> (Capabilities, [String])
    {
        let grants = envelope.capabilities.all
        guard !grants.isEmpty else {
            throw CharterError(
                .capabilityNotInEnvelope, "envelope \(envelope.id) grants no UCAN 0.10 capabilities", field: "scope")
        }
        guard !scopes.isEmpty else { return (envelope.capabilities, withoutRepeats(grants.map(\.ability))) }
        var narrowed: [Capability] = []
        for scope in scopes {
            let covering = grants.filter { Capability.ability($0.ability, covers: scope) }
            guard !covering.isEmpty else {
                throw CharterError(
                    .capabilityNotInEnvelope, "scope \(scope.prefix(200)) is not granted by envelope \(envelope.id)",
                    field: "scope")
            }
            for resource in withoutRepeats(covering.map(\.resource)) {
                let onResource = covering.filter { $0.resource == resource }
                let grant = onResource.first { $0.ability == scope } ?? onResource[0]
                narrowed.append(Capability(resource: resource, ability: scope, caveats: grant.caveats))
            }
        }
        do {
            return (try Capabilities(narrowed), scopes)
        } catch {
            throw CharterError(.capabilityNotInEnvelope, "scope: \(error.message)", field: "scope")
        }
    }

    private static func withoutRepeats(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }
}
