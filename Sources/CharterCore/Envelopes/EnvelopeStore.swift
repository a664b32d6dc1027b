public import Foundation

/// Envelopes and their revocation.
public protocol EnvelopeStore: Sendable {
    /// Stores a new envelope.
    /// - Throws: ``CharterError`` `conflict` when its app already has an envelope of that name.
    func createEnvelope(_ envelope: Envelope, audit: AuditEvent) async throws
    /// The envelope with this id, if it belongs to `orgID`.
    func envelope(id: String, orgID: String) async throws -> Envelope?
    /// The organization's envelopes, of one app when `appID` is given, oldest first.
    func envelopes(orgID: String, appID: String?) async throws -> [Envelope]
    /// Marks an envelope revoked and appends its feed entry, if it is still active.
    /// - Returns: false, writing nothing, when it is already revoked.
    func revokeEnvelope(_ envelope: Envelope, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool
    /// The longest `maxTTLSeconds` of the organization's envelopes in `environment`; 0 when there is none.
    func longestEnvelopeTTL(orgID: String, environment: Environment) async throws -> Int
}
