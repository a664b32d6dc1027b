import ArgumentParser

/// The `charter` command line: token tools now, the control plane's commands as they land.
@main
struct Charter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charter",
        abstract: "Charter: API keys in, short-lived UCAN capability tokens out.",
        subcommands: [UCANCommand.self]
    )
}
