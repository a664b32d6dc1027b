import Synchronization
import UCAN

/// Values worked out from an exact input, kept so an input presented again and again is worked on once.
///
/// Bounded in entries and in the bytes of their inputs (so 4096 forged 32 KiB tokens cannot pin 128 MiB): when
/// either is full it is emptied and refills with what is in use. The lock is held for a dictionary lookup or
/// insert only; the work happens outside it.
final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    static var capacity: Int { 4096 }
    /// The most input bytes kept.
    static var byteCapacity: Int { 16 << 20 }
    private let entries = Mutex<(values: [Key: Value], bytes: Int)>(([:], 0))
    private let cost: @Sendable (Key) -> Int

    /// - Parameter cost: the bytes an input holds.
    init(cost: @escaping @Sendable (Key) -> Int) { self.cost = cost }

    /// The value for `key`, made by `make` on a miss.
    func value<Failure: Error>(for key: Key, making make: () throws(Failure) -> Value) throws(Failure) -> Value {
        if let cached = entries.withLock({ $0.values[key] }) { return cached }
        let value = try make()
        let bytes = cost(key)
        entries.withLock { entries in
            if entries.values.count >= Self.capacity || entries.bytes + bytes > Self.byteCapacity {
                entries = ([:], 0)
            }
            if entries.values.updateValue(value, forKey: key) == nil { entries.bytes += bytes }
        }
        return value
    }
}

/// UCAN 0.10 tokens already parsed, by their exact text, with their sha2-256 CIDs, and the proofs whose
/// signatures a validation has verified.
///
/// A proof's signature is not checked when it is parsed: only ``Validator`` checks it, and only for the proofs
/// its walk up the chain reaches, so a request citing proofs by keys never seen pays for the links it gets
/// through, not for every proof it carries. Once a chain has validated, its proofs are remembered as verified
/// and recur without a check.
final class TokenCache: Sendable {
    /// A parsed token and its CID.
    struct Entry: Sendable {
        let token: UCAN
        let cid: CID
    }

    private let entries = BoundedCache<String, Entry> { $0.utf8.count }
    private let verified = Mutex<Set<CID>>([])

    /// The entry for `text`, parsing it on a miss.
    func entry(parsing text: String, limits: Limits) throws(UCANError) -> Entry {
        try entries.value(for: text) { () throws(UCANError) in
            let token = try UCAN(parsing: text, limits: limits)
            return Entry(token: token, cid: token.cid)
        }
    }

    /// Whether a validation has verified the signature of the proof with this sha2-256 CID.
    func hasVerifiedSignature(_ cid: CID) -> Bool { verified.withLock { $0.contains(cid) } }

    /// Remembers the proofs of a validated chain as verified (bounded as the entries are).
    func rememberVerified(_ cids: some Sequence<CID>) {
        verified.withLock { verified in
            for cid in cids where cid.hasher == .sha256 {
                if verified.count >= BoundedCache<String, Entry>.capacity { verified.removeAll(keepingCapacity: true) }
                verified.insert(cid)
            }
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

    private let entries = BoundedCache<[UInt8], Entry> { $0.count }

    /// The delegation in `bytes`, parsed and its signature checked on a miss.
    func entry(parsing bytes: [UInt8], limits: Limits) throws(UCANError) -> Entry {
        try entries.value(for: bytes) { () throws(UCANError) in
            let delegation = try Delegation(bytes: bytes, limits: limits)
            return Entry(delegation: delegation, cid: delegation.cid)
        }
    }
}
