import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan policy`: evaluate a UCAN 1.0 policy against arguments.
    struct PolicyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Evaluate a policy on arguments: exit 0 and 'match', or exit 1 and the first failing statement.")

        @Option(help: "The policy as DAG-JSON, such as '[[\"like\", \".to\", \"*@example.com\"]]'.")
        var policy: String

        @Option(help: "The arguments as a DAG-JSON object.")
        var args: String

        func run() throws {
            let parsed: Policy
            let arguments: [String: IPLD]
            do {
                parsed = try Policy(try dagJSON(policy, option: "--policy"), field: "--policy")
                arguments = try dagJSONMap(args, option: "--args")
            } catch {
                // A policy or arguments that do not parse are bad input (64), not a failed match (1).
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(64)
            }
            if let mismatch = parsed.evaluate(.map(arguments)) {
                print("no match: \(mismatch.description)")
                throw ExitCode.failure
            }
            print("match")
        }
    }
}
