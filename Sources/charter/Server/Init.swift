import ArgumentParser
import CharterCore
import Foundation
import UCAN

/// `charter init`: create the schema, the first organization, its console app and an owner key.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Initialize a database: schema, organization, `console` app (live) and an owner key, printed once.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The organization's name.")
    var organization = "Default organization"

    @Flag(help: "Print {\"org_id\", \"app_id\", \"key_id\", \"key\"} as JSON.")
    var json = false

    func run() async throws {
        let created = try await database.withStore { store in
            try await Setup(store: store, clock: .system).initialize(organizationName: organization)
        }
        guard let created else {
            if json {
                print(#"{"initialized":false}"#)
            } else {
                print("The database is already initialized; nothing changed.")
            }
            return
        }
        Created(created).print(json: json)
    }
}

/// What `init`, `orgs create` and a first `serve` print: the owner key, once.
struct Created {
    let created: Setup.Created

    init(_ created: Setup.Created) { self.created = created }

    func print(json: Bool) {
        if json {
            let object: JSONValue = [
                "org_id": .string(created.organization.id), "app_id": .string(created.app.id),
                "key_id": .string(created.keyID), "key": .string(created.ownerKey),
            ]
            FileHandle.standardOutput.write(Data(object.serialized() + [UInt8(ascii: "\n")]))
        } else {
            FileHandle.standardOutput.write(
                Data(
                    """
                    Initialized organization \(created.organization.id) (\(created.organization.name)) \
                    with app \(created.app.id) (console, live).
                    Owner key \(created.keyID) — shown only this once; store it in a secrets manager now:

                        \(created.ownerKey)


                    """.utf8))
        }
    }
}
