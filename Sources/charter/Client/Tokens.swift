import ArgumentParser
import CharterHTTP

/// `charter tokens …`: act on tokens a server has minted.
struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Act on tokens a Charter server has minted.", subcommands: [Revoke.self])

    /// `charter tokens revoke`: put one token, named by its CID, on the revocation feed.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke one token by its CID; prints the token's record as JSON.")

        @Argument(help: ArgumentHelp("The token's CID (as `charter ucan cid` prints it).", valueName: "cid"))
        var cid: String

        @OptionGroup var target: ServerOptions

        func run() async throws {
            do throws(CharterClientError) {
                let client = try target.client()
                try printRecord(await client.post("/v1/tokens/\(CharterHTTPClient.segment(cid))/revoke"))
            } catch {
                throw error.reported()
            }
        }
    }
}
