import ArgumentParser
import CharterHTTP
import Foundation

/// `--server` and `--key-env`, shared by every command that calls a Charter server.
///
/// The API key is read from an environment variable and never taken as an argument: arguments end up
/// in shell history and in `ps` output for every user on the machine.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The Charter server's base URL.", valueName: "url"))
    var server: String

    @Option(help: ArgumentHelp("The environment variable that holds the API key.", valueName: "name"))
    var keyEnv = "CHARTER_API_KEY"

    func validate() throws {
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host?.isEmpty == false
        else {
            throw ValidationError("--server must be an http or https URL, such as https://charter.example.com")
        }
        guard !keyEnv.isEmpty else { throw ValidationError("--key-env must name an environment variable") }
    }

    /// A client for the server, holding the key from the environment.
    ///
    /// - Throws: ``CharterClientError`` `api_key_missing` when the variable is unset or empty.
    func client() throws(CharterClientError) -> APIClient {
        guard let key = ProcessInfo.processInfo.environment[keyEnv]?.trimmingCharacters(in: .whitespacesAndNewlines),
            !key.isEmpty
        else {
            throw CharterClientError(
                code: "api_key_missing", message: "set the environment variable \(keyEnv) to an API key")
        }
        guard let url = URL(string: server) else { throw .unexpected("--server is not a URL") }
        return APIClient(server: url, key: key)
    }
}
