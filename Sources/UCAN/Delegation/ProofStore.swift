/// Parsed proof tokens by CID, so a chain can be resolved without parsing a proof twice.
///
/// A server keeps one store for proofs it sees repeatedly; a caller with loose proof strings
/// builds a fresh one per call.
public struct ProofStore: Sendable {
    private var bySHA256: [CID: UCAN] = [:]
    /// sha2-256 CIDs of proofs whose signatures the caller has already verified, such as a verifier's cache.
    private var verifiedSignatures: Set<CID> = []

    /// An empty store.
    public init() {}

    /// A store holding `tokens`.
    public init(_ tokens: [UCAN]) {
        for token in tokens { add(token) }
    }

    /// Parses each proof and stores it.
    /// - Throws: ``UCANError`` for the first proof that does not parse, with the field prefixed by its position.
    public init(parsing proofs: [String], limits: Limits = .default) throws(UCANError) {
        guard proofs.count <= limits.maxProofs else {
            throw UCANError(.tooLarge, field: "proofs", "more than \(limits.maxProofs) proofs supplied")
        }
        for (index, text) in proofs.enumerated() {
            do {
                add(try UCAN(parsing: text, limits: limits))
            } catch {
                throw UCANError(
                    error.code, field: "proofs[\(index)]" + (error.field.map { ".\($0)" } ?? ""), error.message)
            }
        }
    }

    /// Stores a token and returns its sha2-256 CID.
    @discardableResult
    public mutating func add(_ token: UCAN) -> CID {
        let cid = token.cid
        bySHA256[cid] = token
        return cid
    }

    /// Stores a token whose sha2-256 CID the caller already knows, and whether its signature is already known to
    /// verify; ``Validator`` then skips checking that signature again. For caches inside this package only.
    package mutating func add(_ token: UCAN, cid: CID, signatureVerified: Bool) {
        assert(cid.hasher == .sha256 && cid == token.cid, "the CID must be the token's sha2-256 CID")
        bySHA256[cid] = token
        if signatureVerified { verifiedSignatures.insert(cid) }
    }

    /// Whether the proof with this CID was stored with a signature already verified.
    func hasVerifiedSignature(_ cid: CID) -> Bool {
        !verifiedSignatures.isEmpty && verifiedSignatures.contains(cid)
    }

    /// Every stored token.
    public var tokens: [UCAN] { Array(bySHA256.values) }

    /// The token with this CID, whichever hash function the CID uses.
    public func token(for cid: CID) -> UCAN? {
        switch cid.hasher {
        case .sha256:
            return bySHA256[cid]
        case .blake3:
            // Rare in practice and bounded by the proof limit, so hashing on demand beats a second index.
            return bySHA256.values.first { CID(of: $0, hasher: .blake3) == cid }
        }
    }
}
