import ArgumentParser
import CharterHTTP

/// `charter envelopes …`: manage envelopes on a running server.
struct Envelopes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage envelopes on a Charter server.", subcommands: [Revoke.self])

    /// `charter envelopes revoke`: kill every outstanding token minted under an envelope.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an envelope and every token minted under it; prints the envelope as JSON.")

        @Argument(help: ArgumentHelp("The envelope's id.", valueName: "envelope-id"))
        var id: String

        @OptionGroup var target: ServerOptions

        func run() async throws {
            do throws(CharterClientError) {
                let client = try target.client()
                try printRecord(await client.post("/v1/envelopes/\(CharterHTTPClient.segment(id))/revoke"))
            } catch {
                throw error.reported()
            }
        }
    }
}
