public import Foundation
import Synchronization
public import UCAN

/// Each organization's issuer keys, one per environment: created on first need, sealed under the master key,
/// rotated on request.
///
/// Opened keys stay in memory (zeroed when dropped); the store only ever sees them sealed. A rotated key
/// stops signing at once and is published as verify-only until every token it can have signed has expired.
/// One organization's keys are never used for, or changed by, another.
public final class SigningKeys: Sendable {
    /// An issuer ready to sign.
    public struct Active: Sendable {
        public let record: SigningKeyRecord
        public let key: Ed25519.SigningKey
    }

    /// Whose issuer: tokens never cross an organization or an environment, so neither do their signers.
    struct Scope: Hashable {
        let orgID: String
        let environment: Environment
    }

    private let store: any SigningKeyStore & EnvelopeStore
    private let masterKey: SecretBox.Key
    private let clock: CharterClock
    private let active = Mutex<[Scope: Active]>([:])
    private let opened = Mutex<[String: Ed25519.SigningKey]>([:])

    public init(store: any SigningKeyStore & EnvelopeStore, masterKey: SecretBox.Key, clock: CharterClock) {
        self.store = store
        self.masterKey = masterKey
        self.clock = clock
    }

    /// The issuer of the caller's organization in `environment`, created (and audited under `caller`) if it has
    /// none yet.
    public func active(_ environment: Environment, for caller: Identity, context: CallContext) async throws -> Active {
        try await active(Scope(orgID: caller.organization.id, environment: environment)) { now in
            AuditEvent("signing_key.create", by: caller, at: now, context: context, environment: environment)
        }
    }

    /// The issuer of `orgID` in `environment`, created if it has none yet, for work no key asked for (signing a
    /// feed page); its creation is audited in that organization's trail without a key.
    public func active(orgID: String, environment: Environment, context: CallContext) async throws -> Active {
        try await active(Scope(orgID: orgID, environment: environment)) { now in
            AuditEvent(
                time: now, orgID: orgID, environment: environment, keyID: nil, action: "signing_key.create",
                target: nil, outcome: .success, ip: context.ip?.description, requestID: context.requestID)
        }
    }

    private func active(_ scope: Scope, audit: (Date) -> AuditEvent) async throws -> Active {
        if let current = active.withLock({ $0[scope] }) { return current }
        if let stored = try await loadActive(scope) { return stored }
        if let created = try await activate(scope, onlyIfNone: true, audit: audit) { return created }
        guard let stored = try await loadActive(scope) else {
            throw CharterError(.unavailable, "no signing key for \(scope.environment.rawValue)")
        }
        return stored
    }

    /// Replaces the caller's organization's issuer in `environment`; the old one stays verify-only until its
    /// tokens have expired. A `test` key rotates only the `test` issuer.
    public func rotate(_ environment: Environment, by caller: Identity, context: CallContext) async throws
        -> (active: SigningKeyRecord, retired: SigningKeyRecord?)
    {
        try caller.authorize(.rotateSigningKey)
        try caller.requireReach(environment)
        let scope = Scope(orgID: caller.organization.id, environment: environment)
        let previous = try await store.signingKeys().first { Scope($0) == scope && $0.retiredAt == nil }
        guard
            let created = try await activate(
                scope, onlyIfNone: false,
                audit: { now in
                    AuditEvent(
                        "signing_key.rotate", by: caller, at: now, context: context, environment: environment,
                        details: ["previous": previous.map { .string($0.did.string) } ?? .null])
                })
        else { throw CharterError(.unavailable, "the signing key could not be rotated") }
        let retired = try await store.signingKeys().first { $0.id == previous?.id }
        return (created.record, retired)
    }

    /// The caller's organization's keys in the environments its key reaches: active and verify-only, oldest first.
    public func issuers(of caller: Identity) async throws -> [SigningKeyRecord] {
        try caller.authorize(.readSigningKeys)
        return try await issuers().filter { $0.orgID == caller.organization.id && caller.reaches($0.environment) }
    }

    /// The published keys of every organization: active and verify-only ones, oldest first.
    public func issuers() async throws -> [SigningKeyRecord] {
        let now = clock.now()
        return try await store.signingKeys().filter { $0.status(at: now) != .expired }
    }

    /// The key with this id, opened; for signing a revocation with the key that signed the token.
    public func key(id: String) async throws -> Ed25519.SigningKey {
        if let key = opened.withLock({ $0[id] }) { return key }
        guard let record = try await store.signingKeys().first(where: { $0.id == id }) else {
            throw CharterError(.internalError, "signing key \(id) is missing")
        }
        return try open(record)
    }

    /// Opens every stored key, so a wrong master key is found at start-up rather than at the first mint.
    /// - Throws: ``CharterError`` `internal_error` naming the first key that does not open.
    public func checkMasterKey() async throws {
        for record in try await store.signingKeys() { _ = try open(record) }
    }

    /// Forgets which keys are active, after another replica created or rotated one; the next mint reads the store.
    func forgetActive() {
        active.withLock { $0.removeAll() }
    }

    private func loadActive(_ scope: Scope) async throws -> Active? {
        guard let record = try await store.signingKeys().first(where: { Scope($0) == scope && $0.retiredAt == nil })
        else { return nil }
        let current = Active(record: record, key: try open(record))
        active.withLock { $0[scope] = current }
        return current
    }

    /// Creates and stores a new active key, retiring the current one.
    /// - Returns: nil when `onlyIfNone` and another task or replica created one first.
    private func activate(_ scope: Scope, onlyIfNone: Bool, audit: (Date) -> AuditEvent) async throws -> Active? {
        let now = clock.now()
        let key = Ed25519.SigningKey()
        var secret = key.exportSecretKey()
        defer { SecureBytes.zero(&secret) }
        let record = SigningKeyRecord(
            orgID: scope.orgID, environment: scope.environment, did: DID(publicKey: key.publicKey),
            sealedSeed: SecretBox.seal(secret, using: masterKey), createdAt: now)
        let longest = try await store.longestEnvelopeTTL(orgID: scope.orgID, environment: scope.environment)
        let verifyUntil = TokenLifetimePolicy.retiredIssuerVerifies(retiredAt: now, longestEnvelopeTTL: longest)
        var audit = audit(now)
        audit.target = record.id
        audit.details["did"] = .string(record.did.string)
        guard
            try await store.activateSigningKey(record, retiring: verifyUntil, onlyIfNone: onlyIfNone, audit: audit)
        else { return nil }
        let created = Active(record: record, key: key)
        opened.withLock { $0[record.id] = key }
        active.withLock { $0[scope] = created }
        return created
    }

    private func open(_ record: SigningKeyRecord) throws -> Ed25519.SigningKey {
        if let key = opened.withLock({ $0[record.id] }) { return key }
        do {
            var secret = try SecretBox.open(record.sealedSeed, using: masterKey)
            defer { SecureBytes.zero(&secret) }
            let key = try Ed25519.SigningKey(secretKey: secret)
            // The DID is stored beside the sealed key: a row whose two halves disagree was tampered with.
            guard DID(publicKey: key.publicKey) == record.did else {
                throw CryptoError("the key does not match its DID")
            }
            opened.withLock { $0[record.id] = key }
            return key
        } catch {
            throw CharterError(
                .internalError,
                "signing key \(record.id) does not open with this master key (is CHARTER_MASTER_KEY or the key file the one it was created with?)"
            )
        }
    }
}

extension SigningKeys.Scope {
    /// The scope a stored key signs for; nil organization (a shared key of an old database) matches none.
    init?(_ record: SigningKeyRecord) {
        guard let orgID = record.orgID else { return nil }
        self.init(orgID: orgID, environment: record.environment)
    }
}
