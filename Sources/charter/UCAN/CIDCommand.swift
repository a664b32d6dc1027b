import ArgumentParser
import UCAN

extension UCANCommand {
    /// `charter ucan cid`: the CID of a token's exact bytes.
    struct CIDCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cid", abstract: "Print the CIDv1 (raw codec) of a token's exact bytes.")

        @Argument(help: "The token.")
        var token: String

        @Option(help: "sha2-256 (default) or blake3-256.")
        var hasher = CID.Hasher.sha256.rawValue

        func validate() throws {
            guard CID.Hasher(rawValue: hasher) != nil else {
                throw ValidationError("--hasher must be sha2-256 or blake3-256")
            }
        }

        func run() {
            var bytes = token
            let cid = bytes.withUTF8 { CID(hashing: UnsafeRawBufferPointer($0), hasher: CID.Hasher(rawValue: hasher)!) }
            print(cid)
        }
    }
}
