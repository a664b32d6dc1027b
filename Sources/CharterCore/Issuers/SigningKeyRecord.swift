public import Foundation
public import UCAN

/// An issuer key of one organization and environment as stored: its DID and its seed sealed under the master key.
///
/// The database alone cannot sign: the seed is only readable with the master key, which never sits in it.
public struct SigningKeyRecord: Sendable, Hashable {
    public var id: String
    /// The organization whose tokens it signs; nil for an issuer shared by every organization, as databases
    /// made before issuers were per organization had, which is only ever verify-only.
    public var orgID: String?
    public var environment: Environment
    public var did: DID
    /// `SecretBox.seal(seed)` under the master key: nonce, then ciphertext and tag.
    public var sealedSeed: [UInt8]
    public var createdAt: Date
    /// When a newer key replaced it; nil while it signs.
    public var retiredAt: Date?
    /// Until when tokens it signed may still be valid; nil while it signs.
    public var verifyUntil: Date?

    public init(
        id: String = Identifier.make(.signingKey), orgID: String?, environment: Environment, did: DID,
        sealedSeed: [UInt8], createdAt: Date, retiredAt: Date? = nil, verifyUntil: Date? = nil
    ) {
        self.id = id
        self.orgID = orgID
        self.environment = environment
        self.did = did
        self.sealedSeed = sealedSeed
        self.createdAt = createdAt
        self.retiredAt = retiredAt
        self.verifyUntil = verifyUntil
    }

    public enum Status: String, Sendable, Hashable {
        /// Signs new tokens.
        case active
        /// Signs nothing new; tokens it signed still verify until `verifyUntil`.
        case verifyOnly = "verify_only"
        /// Every token it signed has expired.
        case expired
    }

    public func status(at now: Date) -> Status {
        guard let verifyUntil else { return .active }
        return verifyUntil > now ? .verifyOnly : .expired
    }
}
