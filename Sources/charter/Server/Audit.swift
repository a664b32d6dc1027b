import ArgumentParser
import CharterCore
import Foundation

/// `charter audit …`: offline checks of the audit trail.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the audit trail.", subcommands: [Verify.self])

    /// `charter audit verify`: walk every hash chain and report the first broken record.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify every organization's audit hash chain; exit 1 naming the first broken record.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let verification = try await database.withStore { store in try await AuditService(store: store).verifyAll()
            }
            guard verification.breaks.isEmpty else {
                for (chain, broken) in verification.breaks {
                    FileHandle.standardError.write(Data("audit chain of \(chain) is broken at \(broken)\n".utf8))
                }
                throw ExitCode.failure
            }
            print("audit chain intact: \(verification.checked) records verified")
        }
    }
}
