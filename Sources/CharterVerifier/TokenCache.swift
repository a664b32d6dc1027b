import Synchronization
import UCAN

/// Tokens already parsed, by their exact text, with their sha2-256 CIDs, so a token presented again and again
/// is parsed and hashed once; a proof cache also records whether the signature verified.
///
/// Bounded: when full it is emptied and refills with what is in use. The lock is held for a dictionary lookup or
/// insert only; parsing and signature checks happen outside it.
final class TokenCache: Sendable {
    /// A parsed token and what is known about it.
    struct Entry: Sendable {
        let token: UCAN
        let cid: CID
        /// Whether the signature verifies; false when the cache does not check signatures.
        let signatureVerified: Bool
    }

    static let capacity = 4096
    /// Whether entries are signature-checked when they are parsed: yes for proofs, which recur across many
    /// requests; no for presented tokens, whose signature ``Validator`` checks on every call.
    let checksSignatures: Bool
    private let entries = Mutex<[String: Entry]>([:])

    init(checksSignatures: Bool) {
        self.checksSignatures = checksSignatures
    }

    /// The entry for `text`, parsing it on a miss.
    func entry(parsing text: String, limits: Limits) throws(UCANError) -> Entry {
        if let cached = entries.withLock({ $0[text] }) { return cached }
        let token = try UCAN(parsing: text, limits: limits)
        let entry = Entry(
            token: token, cid: token.cid, signatureVerified: checksSignatures && token.hasValidSignature)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[text] = entry
        }
        return entry
    }
}
