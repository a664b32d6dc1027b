/// The varsig header of a UCAN 1.0 envelope: which signature algorithm signed which payload encoding.
///
/// Only Ed25519 over DAG-CBOR exists here: libsodium, the one crypto library this module uses, has no P-256 or
/// secp256k1, so tokens signed with those are refused with `unsupported_algorithm` rather than half-checked.
enum Varsig {
    /// Varsig v1: prefix 0x34, version 1, EdDSA (0xed01) on curve Ed25519 (0xed01) with SHA2-512 (0x13), DAG-CBOR
    /// (0x71), as the UCAN 1.0 spec's examples give it (`NAHtAe0BE3E`).
    static let ed25519DAGCBOR: [UInt8] = [0x34, 0x01, 0xED, 0x01, 0xED, 0x01, 0x13, 0x71]
    /// The shorter form earlier varsig drafts, and implementations built on them, write for the same thing.
    static let ed25519DAGCBORDraft: [UInt8] = [0x34, 0xED, 0x01, 0x71]

    /// Checks that `header` says Ed25519 over DAG-CBOR.
    /// - Throws: ``UCANError`` `unsupported_algorithm` for any other algorithm or encoding.
    static func check(_ header: [UInt8]) throws(UCANError) {
        guard header == ed25519DAGCBOR || header == ed25519DAGCBORDraft else {
            throw UCANError(
                .unsupportedAlgorithm, field: "h",
                "only Ed25519 over DAG-CBOR is supported (libsodium has no P-256 or secp256k1)")
        }
    }
}
