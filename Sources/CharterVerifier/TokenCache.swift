import Synchronization
import UCAN

/// Values worked out from an exact input, kept so an input presented again and again is worked on once.
///
/// Bounded: when full it is emptied and refills with what is in use. The lock is held for a dictionary lookup or
/// insert only; the work happens outside it.
final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    static var capacity: Int { 4096 }
    private let entries = Mutex<[Key: Value]>([:])

    /// The value for `key`, made by `make` on a miss.
    func value<Failure: Error>(for key: Key, making make: () throws(Failure) -> Value) throws(Failure) -> Value {
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let value = try make()
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
        return value
    }
}

/// UCAN 0.10 tokens already parsed, by their exact text, with their sha2-256 CIDs; a proof cache also records
/// whether the signature verified.
final class TokenCache: Sendable {
    /// A parsed token and what is known about it.
    struct Entry: Sendable {
        let token: UCAN
        let cid: CID
        /// Whether the signature verifies; false when the cache does not check signatures.
        let signatureVerified: Bool
    }

    /// Whether entries are signature-checked when they are parsed: yes for proofs, which recur across many
    /// requests; no for presented tokens, whose signature ``Validator`` checks on every call.
    let checksSignatures: Bool
    private let entries = BoundedCache<String, Entry>()

    init(checksSignatures: Bool) {
        self.checksSignatures = checksSignatures
    }

    /// The entry for `text`, parsing it on a miss.
    func entry(parsing text: String, limits: Limits) throws(UCANError) -> Entry {
        try entries.value(for: text) { () throws(UCANError) in
            let token = try UCAN(parsing: text, limits: limits)
            return Entry(token: token, cid: token.cid, signatureVerified: checksSignatures && token.hasValidSignature)
        }
    }
}

/// UCAN 1.0 delegations already parsed and signature-checked, by their exact envelope bytes, with their CIDs: a
/// delegation backs many invocations, each of which is new.
final class DelegationCache: Sendable {
    struct Entry: Sendable {
        let delegation: Delegation
        let cid: CID
    }

    private let entries = BoundedCache<[UInt8], Entry>()

    /// The delegation in `bytes`, parsed and its signature checked on a miss.
    func entry(parsing bytes: [UInt8], limits: Limits) throws(UCANError) -> Entry {
        try entries.value(for: bytes) { () throws(UCANError) in
            let delegation = try Delegation(bytes: bytes, limits: limits)
            return Entry(delegation: delegation, cid: delegation.cid)
        }
    }
}
