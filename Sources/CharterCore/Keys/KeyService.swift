import Foundation
import UCAN

/// The rules for API keys: who may create, see, narrow, revoke and duplicate which keys.
///
/// Management permissions reach the caller's organization (a `test` key only its `test` environment). No caller
/// can create, duplicate or edit a key freer than itself (permissions, IP allowlist, endpoints, rate limit,
/// expiry) or revoke one holding a permission it lacks, and edits may only narrow.
public struct KeyService: Sendable {
    private let store: any KeyStore & AppStore
    private let clock: CharterClock
    private let authenticator: Authenticator
    private let usage: UsageTracker

    public init(store: any KeyStore & AppStore, clock: CharterClock, authenticator: Authenticator, usage: UsageTracker)
    {
        self.store = store
        self.clock = clock
        self.authenticator = authenticator
        self.usage = usage
    }

    /// Creates a key; the plaintext is returned this once and never stored.
    public func create(_ request: NewKeyRequest, by caller: Identity, context: CallContext) async throws -> IssuedKey {
        try caller.authorize(.createKey)
        guard let app = try await store.app(id: request.appID, orgID: caller.organization.id),
            caller.reaches(app.environment)
        else {
            throw CharterError.notFound("app")
        }
        let label = try KeyRules.label(request.label)
        let (role, permissions) = try KeyRules.permissions(role: request.role, permissions: request.permissions)
        try requireHolds(permissions, caller: caller)
        let now = clock.now()
        let limits = caller.key
        // What the request leaves out, the new key inherits from its creator: a restricted key cannot shed its
        // restrictions by creating a key.
        let expiresAt = try expiry(at: request.expiresAt, inDays: request.expiresInDays, now: now) ?? limits.expiresAt
        let secret = APIKeySecret.generate(for: app.environment)
        let key = APIKey(
            orgID: caller.organization.id, appID: app.id, environment: app.environment, label: label,
            prefix: secret.display, role: role, permissions: permissions, secretHash: secret.hash, createdAt: now,
            createdBy: caller.key.id, expiresAt: expiresAt,
            ipAllowlist: try request.ipAllowlist.map { t throws(CharterError) in try KeyRules.ipAllowlist(t) }
                ?? limits.ipAllowlist,
            allowedEndpoints: try request.allowedEndpoints.map { p throws(CharterError) in try KeyRules.endpoints(p) }
                ?? limits.allowedEndpoints,
            rateLimitPerMinute: try request.rateLimitPerMinute.map { v throws(CharterError) in try KeyRules.rateLimit(v)
            } ?? limits.rateLimitPerMinute)
        if var field = KeyRules.freer(key, than: caller.key) {
            if field == "expires_at", request.expiresInDays != nil { field = "expires_in_days" }
            throw CharterError.invalid(field, "may not be wider than the creating key's own")
        }
        try await store.createKey(
            key,
            audit: AuditEvent(
                "key.create", by: caller, at: now, context: context, target: key.id,
                environment: key.environment, details: Self.summary(of: key)))
        return IssuedKey(key: key, plaintext: secret.plaintext)
    }

    /// The caller's organization's keys matching the filter, with usage up to this moment.
    public func list(
        appID: String?, status: APIKey.Status?, expiringWithinDays: Int?, by caller: Identity
    ) async throws -> [APIKey] {
        try caller.authorize(.listKeys)
        if let days = expiringWithinDays, !(0...3650).contains(days) {
            throw CharterError.invalid("expiring_within_days", "must be 0...3650")
        }
        let filter = KeyFilter(
            appID: appID, status: status, expiringWithin: expiringWithinDays.map { Double($0) * 86_400 },
            now: clock.now())
        return try await store.keys(orgID: caller.organization.id, filter: filter)
            .filter { caller.reaches($0.environment) }.map(usage.current)
    }

    /// The labels of those of `ids` that are keys of the caller's organization in an environment it reaches,
    /// by id: for showing keys by name beside their ids, as the audit log does.
    public func labels(of ids: Set<String>, by caller: Identity) async throws -> [String: String] {
        try caller.authorize(.listKeys)
        let keys = try await store.keys(ids: ids, orgID: caller.organization.id).filter {
            caller.reaches($0.environment)
        }
        return Dictionary(keys.map { ($0.id, $0.label) }) { first, _ in first }
    }

    /// One key of the caller's organization.
    public func get(id: String, by caller: Identity) async throws -> APIKey {
        try caller.authorize(.readKey)
        return usage.current(try await find(id, caller: caller))
    }

    /// Narrows a key in place; anything that would widen it is refused (widening means a new key).
    public func update(id: String, changes: KeyChanges, by caller: Identity, context: CallContext) async throws
        -> APIKey
    {
        try caller.authorize(.updateKey)
        let current = try await find(id, caller: caller)
        try requireHolds(current.permissions, caller: caller)
        try requireAtMostAsFree(current, caller: caller)
        guard current.revokedAt == nil else { throw CharterError(.conflict, "a revoked key cannot be changed") }
        var key = current
        var changed: [String] = []
        /// Sets one field, refusing a widening and noting only real changes.
        @discardableResult
        func narrow<Value: Equatable>(
            _ field: String, _ path: WritableKeyPath<APIKey, Value>, to value: Value, allowed: Bool
        ) throws(CharterError) -> Bool {
            guard allowed else { throw .invalid(field, "may only be narrowed; issue a new key to widen") }
            guard value != current[keyPath: path] else { return false }
            key[keyPath: path] = value
            changed.append(field)
            return true
        }
        if let text = changes.label {
            try narrow("label", \.label, to: KeyRules.label(text), allowed: true)
        }
        if changes.role != nil || changes.permissions != nil {
            let (role, permissions) = try KeyRules.permissions(role: changes.role, permissions: changes.permissions)
            if try narrow(
                "permissions", \.permissions, to: permissions, allowed: permissions.isSubset(of: current.permissions))
            {
                key.role = role
            }
        }
        if let texts = changes.ipAllowlist {
            let networks = try KeyRules.ipAllowlist(texts)
            try narrow(
                "ip_allowlist", \.ipAllowlist, to: networks,
                allowed: KeyRules.networks(networks, within: current.ipAllowlist))
        }
        if let paths = changes.allowedEndpoints {
            let endpoints = try KeyRules.endpoints(paths)
            try narrow(
                "allowed_endpoints", \.allowedEndpoints, to: endpoints,
                allowed: KeyRules.endpoints(endpoints, within: current.allowedEndpoints))
        }
        if let limit = changes.rateLimitPerMinute {
            let value: Int? = try KeyRules.rateLimit(limit)
            try narrow(
                "rate_limit_per_minute", \.rateLimitPerMinute, to: value,
                allowed: limit <= current.rateLimitPerMinute ?? .max)
        }
        guard !changed.isEmpty else { return usage.current(current) }
        key.version = current.version + 1
        let now = clock.now()
        let event = AuditEvent(
            "key.update", by: caller, at: now, context: context, target: key.id, environment: key.environment,
            details: ["changed": .array(changed.map(JSONValue.string))].merging(Self.summary(of: key)) { $1 })
        try await commit(key, over: current, event: event)
        return usage.current(key)
    }

    /// Revokes a key: it is refused from the next request on. Tokens it minted live until they expire.
    public func revoke(id: String, by caller: Identity, context: CallContext) async throws -> APIKey {
        try caller.authorize(.revokeKey)
        let current = try await find(id, caller: caller)
        try requireHolds(current.permissions, caller: caller)
        guard current.revokedAt == nil else { throw CharterError(.conflict, "the key is already revoked") }
        let now = clock.now()
        var key = current
        key.revokedAt = now
        key.revokedBy = caller.key.id
        key.version += 1
        try await commit(
            key, over: current,
            event: AuditEvent(
                "key.revoke", by: caller, at: now, context: context, target: key.id, environment: key.environment))
        return usage.current(key)
    }

    /// Issues a new key with the same app, permissions, restrictions and lifetime as an existing one.
    public func duplicate(id: String, label: String?, by caller: Identity, context: CallContext) async throws
        -> IssuedKey
    {
        try caller.authorize(.duplicateKey)
        let original = try await find(id, caller: caller)
        try requireHolds(original.permissions, caller: caller)
        let now = clock.now()
        let lifetime = original.expiresAt.map { $0.timeIntervalSince(original.createdAt) }
        let secret = APIKeySecret.generate(for: original.environment)
        let key = APIKey(
            orgID: original.orgID, appID: original.appID, environment: original.environment,
            label: try label.map { l throws(CharterError) in try KeyRules.label(l) }
                ?? "\(original.label.prefix(90)) (copy)",
            prefix: secret.display, role: original.role, permissions: original.permissions, secretHash: secret.hash,
            createdAt: now, createdBy: caller.key.id, expiresAt: lifetime.map { now.addingTimeInterval($0) },
            ipAllowlist: original.ipAllowlist, allowedEndpoints: original.allowedEndpoints,
            rateLimitPerMinute: original.rateLimitPerMinute)
        try requireAtMostAsFree(key, caller: caller)
        try await store.createKey(
            key,
            audit: AuditEvent(
                "key.duplicate", by: caller, at: now, context: context, target: key.id, environment: key.environment,
                details: ["source": .string(original.id)].merging(Self.summary(of: key)) { $1 }))
        return IssuedKey(key: key, plaintext: secret.plaintext)
    }

    private func find(_ id: String, caller: Identity) async throws -> APIKey {
        guard let key = try await store.key(id: id, orgID: caller.organization.id), caller.reaches(key.environment)
        else {
            throw CharterError.notFound("key")
        }
        return key
    }

    private func commit(_ key: APIKey, over current: APIKey, event: AuditEvent) async throws {
        guard try await store.updateKey(key, expectedVersion: current.version, audit: event) else {
            throw CharterError(.conflict, "the key was changed by another request; read it again and retry")
        }
        authenticator.invalidate(key)
    }

    private func requireHolds(_ permissions: Set<Permission>, caller: Identity) throws(CharterError) {
        if let missing = permissions.subtracting(caller.key.permissions).min() {
            throw CharterError(
                .permissionDenied, "this key lacks the \(missing.rawValue) permission the target key holds")
        }
    }

    /// Refuses a key the caller may not make or change because it is freer than the caller itself.
    private func requireAtMostAsFree(_ key: APIKey, caller: Identity) throws(CharterError) {
        if let field = KeyRules.freer(key, than: caller.key) {
            throw CharterError(
                .permissionDenied, "this key cannot make or change a key with a wider \(field) than its own")
        }
    }

    private func expiry(at date: Date?, inDays days: Int?, now: Date) throws(CharterError) -> Date? {
        switch (date, days) {
        case (nil, nil):
            return nil
        case (_?, _?):
            throw .invalid("expires_at", "give expires_at or expires_in_days, not both")
        case (let date?, nil):
            guard date > now else { throw .invalid("expires_at", "must be in the future") }
            return Date(timeIntervalSince1970: Double(AuditChain.milliseconds(date)) / 1000)
        case (nil, let days?):
            guard (1...3650).contains(days) else { throw .invalid("expires_in_days", "must be 1...3650") }
            return now.addingTimeInterval(Double(days) * 86_400)
        }
    }

    /// What an audit record keeps about a key's settings (never its secret or hash).
    static func summary(of key: APIKey) -> JSONObject {
        [
            "app_id": .string(key.appID),
            "label": .string(key.label),
            "role": key.role.map { .string($0.rawValue) } ?? .null,
            "permissions": .array(key.permissions.sorted().map { .string($0.rawValue) }),
        ]
    }
}
