import ArgumentParser
import CharterCore

/// `charter orgs create`: another organization in the same database, with its own owner key.
struct Orgs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage organizations.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an organization with a `console` app and an owner key, printed once.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "The organization's name.")
        var name: String

        @Flag(help: "Print {\"org_id\", \"app_id\", \"key_id\", \"key\"} as JSON.")
        var json = false

        func run() async throws {
            let created = try await database.withStore { store in
                try await Setup(store: store, clock: .system).createOrganization(name: name)
            }
            Created(created).print(json: json)
        }
    }
}
