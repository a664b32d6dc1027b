import ArgumentParser
import CharterHTTP
import UCAN

/// `charter authorize`: exchange an API key for a short-lived UCAN, as an agent's start-up script would.
struct Authorize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exchange an API key for a UCAN; prints only the token.",
        discussion: """
            The API key is read from the environment variable named by --key-env, never from an argument. \
            On a refusal, prints 'error: <code>: <message>' on stderr and exits 1.
            """
    )

    @OptionGroup var target: ServerOptions

    @Option(help: ArgumentHelp("The did:key the token is issued to.", valueName: "did"))
    var audience: String

    @Option(help: ArgumentHelp("Capabilities as a JSON object: {resource: {ability: [caveat, …]}}.", valueName: "json"))
    var capabilities: String

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
        let object = try jsonObject(capabilities, option: "--capabilities")
        do {
            _ = try Capabilities(json: .object(object), field: "--capabilities")
        } catch {
            throw ValidationError("\(error)")
        }
        if let ttl, ttl < 1 { throw ValidationError("--ttl must be at least 1 second") }
    }

    func run() async throws {
        do throws(CharterClientError) {
            var body: JSONObject = [
                "audience": .string(audience),
                "capabilities": .object(try requestedCapabilities()),
            ]
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

    /// `--capabilities`, which validate() has already accepted.
    private func requestedCapabilities() throws(CharterClientError) -> JSONObject {
        guard case .object(let object)? = try? JSONParser.parse(Array(capabilities.utf8)) else {
            throw .unexpected("--capabilities is not a JSON object")
        }
        return object
    }
}
