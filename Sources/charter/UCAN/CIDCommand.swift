import ArgumentParser
import UCAN

extension UCANCommand {
    /// `charter ucan cid`: the CID of a token's exact bytes.
    struct CIDCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cid",
            abstract:
                "Print the CIDv1 of a token's exact bytes: raw codec for 0.10 (bafkrei…), DAG-CBOR for 1.0 (bafyrei…).")

        @Argument(help: "The token.")
        var token: String

        @Option(help: "sha2-256 (default) or blake3-256.")
        var hasher = CID.Hasher.sha256.rawValue

        func validate() throws {
            guard CID.Hasher(rawValue: hasher) != nil else {
                throw ValidationError("--hasher must be sha2-256 or blake3-256")
            }
        }

        func run() throws {
            let hasher = CID.Hasher(rawValue: hasher)!
            switch try TokenInput(token) {
            case .jwt(let text): print(CID(hashing: Array(text.utf8), hasher: hasher))
            case .envelope(let bytes): print(CID(hashing: bytes, hasher: hasher, codec: .dagCBOR))
            }
        }
    }
}
