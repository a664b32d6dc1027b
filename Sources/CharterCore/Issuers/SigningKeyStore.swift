public import Foundation

/// Issuer keys: sealed seeds, activation and retirement.
public protocol SigningKeyStore: Sendable {
    /// Every signing key of every organization, and the shared ones of old databases, oldest first.
    func signingKeys() async throws -> [SigningKeyRecord]
    /// Stores `key` as the active key of its organization and environment, retiring the active one (if any)
    /// until `verifyUntil`.
    /// - Parameter onlyIfNone: when true, stores nothing and returns false if there already is an active key.
    func activateSigningKey(_ key: SigningKeyRecord, retiring verifyUntil: Date, onlyIfNone: Bool, audit: AuditEvent)
        async throws -> Bool
}
