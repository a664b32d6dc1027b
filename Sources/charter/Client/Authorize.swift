import ArgumentParser
import CharterHTTP
import UCAN

/// `charter authorize`: exchange an API key for a short-lived UCAN, as an agent's start-up script would.
struct Authorize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exchange an API key for a UCAN 0.10 token or a 1.0 delegation; prints only the token.",
        discussion: """
            The API key is read from the environment variable named by --key-env, never from an argument. \
            On a refusal, prints 'error: <code>: <message>' on stderr and exits 1.
            """
    )

    @OptionGroup var target: ServerOptions

    @Option(help: ArgumentHelp("The did:key the token is issued to.", valueName: "did"))
    var audience: String

    @Option(help: ArgumentHelp("The token to mint: ucan/0.10 (a JWT) or ucan/1.0 (a delegation, in base64)."))
    var format = "ucan/0.10"

    @Option(
        help: ArgumentHelp(
            "0.10: capabilities as a JSON object: {resource: {ability: [caveat, …]}}.", valueName: "json"))
    var capabilities: String?

    @Option(help: ArgumentHelp("1.0: the command to be delegated, such as /email/send.", valueName: "cmd"))
    var command: String?

    @Option(
        help: ArgumentHelp(
            "1.0: statements added to the envelope grant's policy, as DAG-JSON, such as [[\"==\", \".to\", \"a@b.c\"]].",
            valueName: "json"))
    var policy: String?

    @Option(
        help: ArgumentHelp("Lifetime in seconds (default: the server's, within the envelope).", valueName: "seconds"))
    var ttl: Int?

    @Option(help: ArgumentHelp("Mint under this envelope instead of the app's active one.", valueName: "id"))
    var envelope: String?

    func validate() throws {
        do {
            _ = try DID(audience, field: "--audience")
        } catch {
            throw ValidationError("--audience must be a did:key (\(error.message))")
        }
        switch format {
        case "ucan/0.10":
            guard command == nil, policy == nil else {
                throw ValidationError("--command and --policy are for --format ucan/1.0")
            }
            guard let capabilities else { throw ValidationError("--capabilities is required for ucan/0.10") }
            let object = try jsonObject(capabilities, option: "--capabilities")
            do {
                _ = try Capabilities(json: .object(object), field: "--capabilities")
            } catch {
                throw ValidationError("\(error)")
            }
        case "ucan/1.0":
            guard capabilities == nil else { throw ValidationError("--capabilities is for --format ucan/0.10") }
            guard let command else { throw ValidationError("--command is required for ucan/1.0") }
            do {
                _ = try Command(command, field: "--command")
                _ = try policy.map { try Policy(try dagJSON($0, option: "--policy"), field: "--policy") }
            } catch let error as UCANError {
                throw ValidationError("\(error)")
            }
        default:
            throw ValidationError("--format must be ucan/0.10 or ucan/1.0")
        }
        if let ttl, ttl < 1 { throw ValidationError("--ttl must be at least 1 second") }
    }

    func run() async throws {
        do throws(CharterClientError) {
            var body: JSONObject = ["audience": .string(audience), "format": .string(format)]
            if let capabilities { body["capabilities"] = try json(capabilities, "--capabilities") }
            if let command { body["command"] = .string(command) }
            if let policy { body["policy"] = try json(policy, "--policy") }
            if let ttl { body["ttl_seconds"] = .integer(Int64(ttl)) }
            if let envelope { body["envelope_id"] = .string(envelope) }
            let answer = try await target.client().post("/v1/authorize", json: body).object()
            guard let token = answer["token"]?.stringValue else {
                throw .unexpected("the server's answer has no token")
            }
            print(token)
        } catch {
            throw error.reported()
        }
    }

    /// An option's JSON, which validate() has already accepted.
    private func json(_ text: String, _ option: String) throws(CharterClientError) -> JSONValue {
        guard let value = try? JSONParser.parse(Array(text.utf8)) else { throw .unexpected("\(option) is not JSON") }
        return value
    }
}
