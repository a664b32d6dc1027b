import ArgumentParser

/// `charter ucan …`: build, verify and take apart UCAN 0.10 and 1.0 tokens offline.
struct UCANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ucan",
        abstract: "Build, verify and inspect UCAN 0.10 and 1.0 tokens offline.",
        subcommands: [
            Keygen.self, Build.self, Delegate.self, Invoke.self, Verify.self, CIDCommand.self, Inspect.self,
            PolicyCommand.self,
        ]
    )
}
