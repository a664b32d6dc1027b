public import Foundation
public import UCAN

/// A UCAN 1.0 invocation signed by the agent, with the delegations it cites: what a call to a service carries.
///
/// Send ``authorization`` as the `Authorization` header and ``ucans`` as the `ucans` header, as
/// `RequireInvocation` reads them. Each invocation is accepted once: sign a new one per call.
public struct SignedInvocation: Sendable {
    public let invocation: Invocation
    /// The delegations it cites, root first.
    public let proofs: [Delegation]

    /// Signs an invocation of `command` with `key`, citing `chain` (root first, the last made out to `key`'s DID).
    /// - Throws: ``UCANError`` when the chain is empty or roots in a powerline, or the invocation would be too large.
    public init(
        signing command: Command, arguments: [String: IPLD], audience: DID, chain: [Delegation],
        with key: Ed25519.SigningKey, expiration: Int64
    ) throws {
        guard let subject = chain.first?.subject else {
            throw UCANError(.invalidSubject, field: "prf", "an invocation cites a chain rooted at its subject")
        }
        invocation = try Invocation(
            issuer: key, subject: subject, audience: audience, command: command, arguments: arguments,
            proofs: chain.map(\.cid), nonce: SecureBytes.random(count: 16), expiration: expiration)
        proofs = chain
    }

    /// `Bearer <base64 of the invocation>`.
    public var authorization: String { "Bearer " + Data(invocation.bytes).base64EncodedString() }

    /// The delegations, each in base64, comma-separated.
    public var ucans: String { proofs.map { Data($0.bytes).base64EncodedString() }.joined(separator: ", ") }
}
