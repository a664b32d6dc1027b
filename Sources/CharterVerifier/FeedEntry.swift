import Foundation
import UCAN

/// One entry of Charter's revocation feed, as received.
struct FeedEntry: Sendable {
    /// What an entry revokes.
    enum Kind: Sendable, Hashable {
        /// One token, by CID.
        case token(CID)
        /// Every token minted under an envelope, by id.
        case envelope(String)
    }

    let seq: Int64
    let kind: Kind
    /// The `revoke` field exactly as signed: a CID or an envelope id.
    let subject: String
    let issuer: DID
    let challenge: [UInt8]
    /// When the last token the entry could affect expires.
    let coversUntil: Date

    /// Whether a trusted issuer signed `REVOKE:` + subject: a forged or foreign entry is ignored.
    func isAuthentic(trusting trusted: Set<DID>) -> Bool {
        trusted.contains(issuer)
            && issuer.publicKey.isValidSignature(challenge, for: Array("REVOKE:\(subject)".utf8))
    }
}

/// One issuer as `GET /v1/issuers` lists it.
struct PublishedIssuer: Sendable, Hashable {
    let did: DID
    /// The organization whose tokens it signs; nil for an issuer an old server shared between organizations.
    let org: String?
    let environment: String
    /// When a retired issuer stops verifying; nil while it signs.
    let notAfter: Date?
}

/// One page of `GET /v1/revocations`.
struct RevocationPage: Sendable {
    /// Entries in a form the verifier understands; unknown kinds are counted in ``skipped``.
    let entries: [FeedEntry]
    /// The `revocations` array as received, which the head's digest covers.
    let listed: JSONValue
    let skipped: Int
    /// Where the next page starts.
    let nextSince: Int64
    /// The signed head, checked before any entry counts.
    let head: FeedHead
}
