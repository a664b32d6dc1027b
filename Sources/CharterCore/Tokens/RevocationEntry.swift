public import Foundation
public import UCAN

/// One signed entry of the revocation feed: a token CID or an envelope id, and who vouches for it.
///
/// `challenge` is the issuer's signature over `REVOKE:` followed by `subject`, so a token entry is exactly a
/// UCAN 0.10 revocation record (`{"iss", "revoke", "challenge"}`), and an envelope entry follows the same rule.
public struct RevocationEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case token
        case envelope
    }

    /// Position in the feed, assigned by the store; 0 until stored.
    public var seq: Int64
    public var orgID: String
    public var environment: Environment
    public var kind: Kind
    /// The token's CID or the envelope's id.
    public var subject: String
    public var issuer: DID
    public var challenge: [UInt8]
    public var revokedAt: Date
    /// When every token the entry covers has expired, so the entry may be dropped.
    public var coversUntil: Date

    public init(
        seq: Int64 = 0, orgID: String, environment: Environment, kind: Kind, subject: String, issuer: DID,
        challenge: [UInt8], revokedAt: Date, coversUntil: Date
    ) {
        self.seq = seq
        self.orgID = orgID
        self.environment = environment
        self.kind = kind
        self.subject = subject
        self.issuer = issuer
        self.challenge = challenge
        self.revokedAt = revokedAt
        self.coversUntil = coversUntil
    }

    /// Signs an entry revoking `subject` with `key`.
    public static func signed(
        _ kind: Kind, subject: String, orgID: String, environment: Environment, by key: Ed25519.SigningKey,
        at now: Date, coversUntil: Date
    ) -> RevocationEntry {
        RevocationEntry(
            orgID: orgID, environment: environment, kind: kind, subject: subject, issuer: DID(publicKey: key.publicKey),
            challenge: key.signature(for: message(for: subject)), revokedAt: now, coversUntil: coversUntil)
    }

    /// Whether `challenge` is `issuer`'s signature over this entry's subject.
    public var hasValidSignature: Bool {
        issuer.publicKey.isValidSignature(challenge, for: Self.message(for: subject))
    }

    /// The signed message: `REVOKE:` and the subject, as UCAN 0.10 revocation records sign it.
    public static func message(for subject: String) -> [UInt8] { Array("REVOKE:\(subject)".utf8) }
}
