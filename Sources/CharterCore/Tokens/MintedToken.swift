public import Foundation
public import UCAN

/// What Charter keeps of a token it minted: enough to revoke it by CID, never the token itself.
public struct MintedToken: Sendable, Hashable {
    public var cid: CID
    public var orgID: String
    public var appID: String
    public var environment: Environment
    public var envelopeID: String
    public var keyID: String
    public var signingKeyID: String
    public var audience: DID
    public var createdAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(
        cid: CID, orgID: String, appID: String, environment: Environment, envelopeID: String, keyID: String,
        signingKeyID: String, audience: DID, createdAt: Date, expiresAt: Date, revokedAt: Date? = nil
    ) {
        self.cid = cid
        self.orgID = orgID
        self.appID = appID
        self.environment = environment
        self.envelopeID = envelopeID
        self.keyID = keyID
        self.signingKeyID = signingKeyID
        self.audience = audience
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }
}
