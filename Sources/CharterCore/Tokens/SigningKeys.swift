public import Foundation
import Synchronization
public import UCAN

/// Each environment's issuer keys: created on first need, sealed under the master key, rotated on request.
///
/// Opened keys stay in memory (zeroed when dropped); the store only ever sees them sealed. A rotated key
/// stops signing at once and is published as verify-only until every token it can have signed has expired.
public final class SigningKeys: Sendable {
    /// An environment's current issuer, ready to sign.
    public struct Active: Sendable {
        public let record: SigningKeyRecord
        public let key: Ed25519.SigningKey
    }

    /// Extra time a retired key stays published, past the longest token lifetime, for clock leeway.
    public static let retirementGrace: TimeInterval = 300

    private let store: any Store
    private let masterKey: SecretBox.Key
    private let clock: CharterClock
    private let active = Mutex<[Environment: Active]>([:])
    private let opened = Mutex<[String: Ed25519.SigningKey]>([:])

    public init(store: any Store, masterKey: SecretBox.Key, clock: CharterClock) {
        self.store = store
        self.masterKey = masterKey
        self.clock = clock
    }

    /// The environment's signing key, created (and audited under `caller`) if it has none yet.
    public func active(_ environment: Environment, for caller: Identity, context: CallContext) async throws -> Active {
        if let current = active.withLock({ $0[environment] }) { return current }
        if let stored = try await loadActive(environment) { return stored }
        let now = clock.now()
        let created = try await activate(
            environment, at: now, onlyIfNone: true,
            audit: AuditEvent(
                "signing_key.create", by: caller, at: now, context: context, environment: environment))
        if let created { return created }
        guard let stored = try await loadActive(environment) else {
            throw CharterError(.unavailable, "no signing key for \(environment.rawValue)")
        }
        return stored
    }

    /// Replaces the environment's signing key; the old one stays verify-only until its tokens have expired.
    public func rotate(_ environment: Environment, by caller: Identity, context: CallContext) async throws
        -> (active: SigningKeyRecord, retired: SigningKeyRecord?)
    {
        try caller.require(.signingKeysRotate)
        let previous = try await store.signingKeys().first { $0.environment == environment && $0.retiredAt == nil }
        let now = clock.now()
        guard
            let created = try await activate(
                environment, at: now, onlyIfNone: false,
                audit: AuditEvent(
                    "signing_key.rotate", by: caller, at: now, context: context, environment: environment,
                    details: ["previous": previous.map { .string($0.did.string) } ?? .null]))
        else { throw CharterError(.unavailable, "the signing key could not be rotated") }
        let retired = try await store.signingKeys().first { $0.id == previous?.id }
        return (created.record, retired)
    }

    /// The published keys: active and verify-only ones, oldest first.
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

    private func loadActive(_ environment: Environment) async throws -> Active? {
        guard
            let record = try await store.signingKeys().first(where: {
                $0.environment == environment && $0.retiredAt == nil
            })
        else { return nil }
        let current = Active(record: record, key: try open(record))
        active.withLock { $0[environment] = current }
        return current
    }

    /// Creates and stores a new active key, retiring the current one.
    /// - Returns: nil when `onlyIfNone` and another task or replica created one first.
    private func activate(_ environment: Environment, at now: Date, onlyIfNone: Bool, audit: AuditEvent) async throws
        -> Active?
    {
        let key = Ed25519.SigningKey()
        var secret = key.exportSecretKey()
        defer { SecureBytes.zero(&secret) }
        let record = SigningKeyRecord(
            environment: environment, did: DID(publicKey: key.publicKey),
            sealedSeed: SecretBox.seal(secret, using: masterKey), createdAt: now)
        let longest = try await store.longestEnvelopeTTL(environment: environment)
        let verifyUntil = now.addingTimeInterval(TimeInterval(longest) + Self.retirementGrace)
        var audit = audit
        audit.target = record.id
        audit.details["did"] = .string(record.did.string)
        guard
            try await store.activateSigningKey(record, retiring: verifyUntil, onlyIfNone: onlyIfNone, audit: audit)
        else { return nil }
        let created = Active(record: record, key: key)
        opened.withLock { $0[record.id] = key }
        active.withLock { $0[environment] = created }
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
