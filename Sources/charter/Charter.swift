import ArgumentParser

/// The `charter` command line: token tools now, the control plane's commands as they land.
@main
struct Charter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charter",
        abstract: "Charter: API keys in, short-lived UCAN capability tokens out.",
        subcommands: [
            Serve.self, Init.self, Orgs.self, Audit.self, Authorize.self, Envelopes.self, Tokens.self,
            UCANCommand.self, VerifyCommand.self,
        ]
    )
}
