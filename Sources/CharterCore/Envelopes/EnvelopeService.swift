public import Foundation
import Synchronization
public import UCAN

/// The rules for envelopes, and the cache `/v1/authorize` reads them from.
///
/// The cache may lag behind another replica by ``cacheLifetime`` for new envelopes; it can never let a revoked
/// one mint, because every mint re-checks its envelope when it is recorded (``TokenStore/recordMints(_:)``).
public final class EnvelopeService: Sendable {
    /// How long an app's envelopes are served from memory before they are read again.
    public static let cacheLifetime: TimeInterval = 2

    private let store: any EnvelopeStore & AppStore
    private let clock: CharterClock
    private let signingKeys: SigningKeys
    private let cache = Mutex<[String: (envelopes: [Envelope], loadedAt: Date)]>([:])

    public init(store: any EnvelopeStore & AppStore, clock: CharterClock, signingKeys: SigningKeys) {
        self.store = store
        self.clock = clock
        self.signingKeys = signingKeys
    }

    /// Creates an envelope for an app of the caller's organization, with 0.10 `capabilities`, 1.0 `commands`
    /// (command → policy), or both, and the `audiences` (resource URL → did:key) OAuth clients may name.
    public func create(
        appID: String, name: String, capabilities: JSONValue?, commands: JSONValue? = nil, audiences: JSONValue? = nil,
        maxTTLSeconds: Int,
        by caller: Identity, context: CallContext
    ) async throws -> Envelope {
        try caller.authorize(.createEnvelope)
        let trimmed = try KeyRules.name(name, field: "name")
        guard capabilities != nil || commands != nil else {
            throw CharterError.invalid(
                "capabilities", "an envelope grants capabilities (UCAN 0.10), commands (1.0) or both")
        }
        let grants =
            try commands.map { json throws(CharterError) in
                let grants = try CommandGrants(json: json)
                guard !grants.isEmpty else { throw CharterError.invalid("commands", "must name at least one command") }
                return grants
            } ?? .none
        let capabilities = try capabilities.map { json throws(CharterError) in try Self.capabilities(json) } ?? .none
        let audiences = try audiences.map { json throws(CharterError) in try Audiences(json: json) } ?? .none
        try TokenLifetimePolicy.validateEnvelopeTTL(maxTTLSeconds)
        guard let app = try await store.app(id: appID, orgID: caller.organization.id), caller.reaches(app.environment)
        else {
            throw CharterError.notFound("app")
        }
        let now = clock.now()
        let envelope = Envelope(
            orgID: app.orgID, appID: app.id, environment: app.environment, name: trimmed, capabilities: capabilities,
            commands: grants, audiences: audiences, maxTTLSeconds: maxTTLSeconds, createdAt: now,
            createdBy: caller.key.id)
        try await store.createEnvelope(
            envelope,
            audit: AuditEvent(
                "envelope.create", by: caller, at: now, context: context, target: envelope.id,
                environment: app.environment,
                details: [
                    "app_id": .string(app.id), "name": .string(trimmed), "capabilities": capabilities.json,
                    "commands": grants.isEmpty ? nil : grants.json,
                    "audiences": audiences.isEmpty ? nil : audiences.json,
                    "max_ttl_seconds": .integer(Int64(maxTTLSeconds)),
                ].compactMapValues { $0 }))
        forget(appID: app.id)
        return envelope
    }

    /// The caller's organization's envelopes, of one app when `appID` is given.
    public func list(appID: String?, by caller: Identity) async throws -> [Envelope] {
        try caller.authorize(.listEnvelopes)
        return try await store.envelopes(orgID: caller.organization.id, appID: appID)
            .filter { caller.reaches($0.environment) }
    }

    /// One envelope of the caller's organization.
    public func get(id: String, by caller: Identity) async throws -> Envelope {
        try caller.authorize(.readEnvelope)
        return try await find(id, caller: caller)
    }

    /// Revokes an envelope: no more mints under it, and a signed feed entry that kills its outstanding tokens.
    public func revoke(id: String, by caller: Identity, context: CallContext) async throws -> Envelope {
        try caller.authorize(.revokeEnvelope)
        var envelope = try await find(id, caller: caller)
        guard envelope.revokedAt == nil else { throw CharterError(.conflict, "the envelope is already revoked") }
        let signer = try await signingKeys.active(envelope.environment, for: caller, context: context)
        let now = clock.now()
        envelope.revokedAt = now
        envelope.revokedBy = caller.key.id
        let entry = RevocationEntry.signed(
            .envelope, subject: envelope.id, orgID: envelope.orgID, environment: envelope.environment,
            by: signer.key, at: now, coversUntil: TokenLifetimePolicy.envelopeRevocationCovers(envelope, revokedAt: now)
        )
        let revoked = try await store.revokeEnvelope(
            envelope, entry: entry,
            audit: AuditEvent(
                "envelope.revoke", by: caller, at: now, context: context, target: envelope.id,
                environment: envelope.environment, details: ["app_id": .string(envelope.appID)]))
        forget(appID: envelope.appID)
        guard revoked else { throw CharterError(.conflict, "the envelope is already revoked") }
        return envelope
    }

    /// An app's envelopes, newest first, from memory when read recently.
    func envelopes(appID: String, orgID: String, reload: Bool = false) async throws -> [Envelope] {
        let now = clock.now()
        if !reload, let cached = cache.withLock({ $0[appID] }),
            now.timeIntervalSince(cached.loadedAt) < Self.cacheLifetime
        {
            return cached.envelopes
        }
        let envelopes = try await store.envelopes(orgID: orgID, appID: appID).reversed() as [Envelope]
        cache.withLock { $0[appID] = (envelopes, now) }
        return envelopes
    }

    /// Drops an app's cached envelopes after a change.
    func forget(appID: String) {
        _ = cache.withLock { $0.removeValue(forKey: appID) }
    }

    /// Drops every cached envelope.
    func forgetAll() {
        cache.withLock { $0.removeAll() }
    }

    private func find(_ id: String, caller: Identity) async throws -> Envelope {
        guard let envelope = try await store.envelope(id: id, orgID: caller.organization.id),
            caller.reaches(envelope.environment)
        else {
            throw CharterError.notFound("envelope")
        }
        return envelope
    }

    /// Reads a capability map from a request field named `capabilities`.
    static func capabilities(_ json: JSONValue, field: String = "capabilities") throws(CharterError) -> Capabilities {
        let capabilities: Capabilities
        do {
            capabilities = try Capabilities(json: json, field: field)
        } catch {
            // The UCAN layer names the token's own field, `cap`; the request calls it `capabilities`.
            var path = error.field ?? field
            if path == "cap" || path.hasPrefix("cap.") || path.hasPrefix("cap[") {
                path = field + path.dropFirst(3)
            }
            throw CharterError.invalid(path, error.message)
        }
        guard !capabilities.isEmpty else { throw CharterError.invalid(field, "must name at least one capability") }
        return capabilities
    }
}
