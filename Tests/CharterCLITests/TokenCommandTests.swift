import Foundation
import Testing

/// `charter authorize`, `charter tokens revoke` and `charter envelopes revoke` against a real
/// `charter serve`, with the API key passed only through the environment.
@Suite(.serialized) struct TokenCommandTests {
    static let audience = "did:key:z6Mko9hTggMwjSTEaJaPUfE6tqcy2xvU6BnNq3e3o8qVBiyH"
    static let mail = #"{"mailto:*":{"email/send":[{}]}}"#

    /// A server with an owner key and one active envelope allowing `email/send` on `mailto:*` (0.10) and
    /// `/email/send` to `*@example.com` (1.0).
    final class Fixture {
        let directory: URL
        let server: ServerProcess
        let key: String
        let envelope: String
        /// The database URL the server runs on.
        let database: String
        /// The id of the server's first organization, whose owner `key` is.
        let org: String
        /// Every result the commands under test produced, checked for the key at the end.
        private(set) var results: [CLI.Result] = []

        var url: String { "http://127.0.0.1:\(server.port)" }

        init() async throws {
            let (directory, database) = try ServeCommandTests.temporaryDatabase()
            self.directory = directory
            self.database = database
            server = try ServerProcess(database: database)
            key = try #require(server.ownerKey)
            let me = try Fixture.object(try await server.get("/v1/me", key: key).body)
            org = try #require((me["organization"] as? [String: Any])?["id"] as? String)
            let apps = try await server.get("/v1/apps", key: key)
            let app = try #require((try Fixture.object(apps.body)["apps"] as? [[String: Any]])?.first?["id"] as? String)
            let created = try await server.post(
                "/v1/envelopes", key: key,
                json: [
                    "app_id": app, "name": "mail", "max_ttl_seconds": 600,
                    "capabilities": ["mailto:*": ["email/send": [[String: Any]()]]],
                    "commands": ["/email/send": [["like", ".to", "*@example.com"]]],
                ])
            try #require(created.status == 201, "\(created.body)")
            envelope = try #require(try Fixture.object(created.body)["id"] as? String)
        }

        deinit {
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        /// Runs `charter` with the owner key in `CHARTER_API_KEY` (or `environment`, when given).
        @discardableResult
        func run(_ arguments: String..., environment: [String: String]? = nil) throws -> CLI.Result {
            let result = try CLI.run(arguments, environment: environment ?? ["CHARTER_API_KEY": key])
            results.append(result)
            return result
        }

        func authorize(_ capabilities: String = TokenCommandTests.mail, _ extra: String...) throws -> CLI.Result {
            let arguments =
                [
                    "authorize", "--server", url, "--audience", TokenCommandTests.audience, "--capabilities",
                    capabilities,
                ]
                + extra
            let result = try CLI.run(arguments, environment: ["CHARTER_API_KEY": key])
            results.append(result)
            return result
        }

        /// The payload of `token`, as `charter ucan inspect` shows it.
        func payload(of token: String) throws -> [String: Any] {
            let inspected = try CLI.run("ucan", "inspect", token)
            #expect(inspected.status == 0, "\(inspected.stderr)")
            return try #require(try Self.object(inspected.stdout)["payload"] as? [String: Any])
        }

        func revocations() async throws -> [[String: Any]] {
            let feed = try await server.get("/v1/revocations?org=\(org)&environment=live&since=0", key: nil)
            #expect(feed.status == 200)
            return try #require(try Self.object(feed.body)["revocations"] as? [[String: Any]])
        }

        /// No command printed the API key, on either stream.
        func expectKeyNeverPrinted(sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!results.isEmpty, sourceLocation: sourceLocation)
            for result in results {
                #expect(!result.stdout.contains(key), "stdout carries the key", sourceLocation: sourceLocation)
                #expect(!result.stderr.contains(key), "stderr carries the key", sourceLocation: sourceLocation)
            }
        }

        static func object(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
    }

    /// stderr is exactly one line, `error: <code>: …`.
    static func expectError(_ result: CLI.Result, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("error: \(code): "), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line", sourceLocation: sourceLocation)
    }

    @Test func authorizePrintsOnlyATokenThatVerifiesAndCarriesTheEnvelope() async throws {
        let fixture = try await Fixture()
        let before = Int(Date().timeIntervalSince1970)
        let minted = try fixture.authorize(Self.mail, "--ttl", "120")
        #expect(minted.status == 0, "\(minted.stderr)")
        #expect(minted.stderr.isEmpty)
        #expect(minted.stdout == minted.line + "\n", "the token and nothing else, on one line")
        let token = minted.line
        #expect(token.split(separator: ".").count == 3)

        let verified = try CLI.run("ucan", "verify", token)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.line == "valid")

        let payload = try fixture.payload(of: token)
        #expect(payload["aud"] as? String == Self.audience)
        let cap = try #require(payload["cap"] as? [String: [String: [[String: Any]]]])
        #expect(cap.keys.sorted() == ["mailto:*"])
        #expect(cap["mailto:*"]?.keys.sorted() == ["email/send"])
        let facts = try #require(payload["fct"] as? [String: Any])
        #expect(facts["envelope"] as? String == fixture.envelope)
        #expect(facts["env"] as? String == "live")
        let expires = try #require(payload["exp"] as? Int)
        #expect((before + 119...before + 125).contains(expires), "--ttl reaches the server")

        let issuers = try await fixture.server.get("/v1/issuers", key: nil)
        #expect(issuers.body.contains(try #require(payload["iss"] as? String)))

        let pinned = try fixture.authorize(Self.mail, "--envelope", fixture.envelope)
        #expect(pinned.status == 0, "\(pinned.stderr)")
        #expect(
            try fixture.payload(of: pinned.line)["fct"].flatMap { $0 as? [String: Any] }?["envelope"] as? String
                == fixture.envelope)
        fixture.expectKeyNeverPrinted()
    }

    @Test func aRequestOutsideTheEnvelopeIsRefusedWithTheServersCode() async throws {
        let fixture = try await Fixture()
        Self.expectError(
            try fixture.authorize(#"{"https://api.example.com":{"email/send":[{}]}}"#), "capability_not_in_envelope")
        Self.expectError(try fixture.authorize(#"{"mailto:*":{"email/read":[{}]}}"#), "capability_not_in_envelope")
        Self.expectError(try fixture.authorize(Self.mail, "--ttl", "601"), "ttl_too_long")
        Self.expectError(try fixture.authorize(Self.mail, "--envelope", "env_unknown"), "not_found")
        fixture.expectKeyNeverPrinted()
    }

    @Test func tokensRevokePrintsTheRecordAndPublishesTheCID() async throws {
        let fixture = try await Fixture()
        let token = try fixture.authorize().line
        let cid = try CLI.run("ucan", "cid", token).line
        #expect(try await fixture.revocations().isEmpty)

        let revoked = try fixture.run("tokens", "revoke", cid, "--server", fixture.url)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let record = try Fixture.object(revoked.stdout)
        #expect(record["cid"] as? String == cid)
        #expect(record["envelope_id"] as? String == fixture.envelope)
        #expect(record["revoked_at"] is String)

        let entries = try await fixture.revocations()
        #expect(entries.count == 1)
        #expect(entries.first?["revoke"] as? String == cid)
        #expect(entries.first?["kind"] as? String == "token")

        Self.expectError(try fixture.run("tokens", "revoke", cid, "--server", fixture.url), "conflict")
        Self.expectError(try fixture.run("tokens", "revoke", "bafkreinotatoken", "--server", fixture.url), "not_found")
        let traversal = try fixture.run("tokens", "revoke", "../envelopes/\(fixture.envelope)", "--server", fixture.url)
        Self.expectError(traversal, "not_found")
        #expect(try await fixture.revocations().count == 1, "an id cannot climb out of its path segment")
        fixture.expectKeyNeverPrinted()
    }

    @Test func envelopesRevokeStopsEveryFurtherMint() async throws {
        let fixture = try await Fixture()
        #expect(try fixture.authorize().status == 0)

        let revoked = try fixture.run("envelopes", "revoke", fixture.envelope, "--server", fixture.url)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout.filter { $0 == "\n" }.count == 1, "one JSON line")
        let record = try Fixture.object(revoked.stdout)
        #expect(record["id"] as? String == fixture.envelope)
        #expect(record["status"] as? String == "revoked")

        let refused = try fixture.authorize()
        #expect(refused.status == 1)
        #expect(
            refused.stderr.hasPrefix("error: no_active_envelope: ")
                || refused.stderr.hasPrefix("error: envelope_revoked: "), "\(refused.stderr)")
        Self.expectError(try fixture.authorize(Self.mail, "--envelope", fixture.envelope), "envelope_revoked")
        Self.expectError(try fixture.run("envelopes", "revoke", fixture.envelope, "--server", fixture.url), "conflict")

        let entries = try await fixture.revocations()
        #expect(entries.contains { $0["kind"] as? String == "envelope" && $0["revoke"] as? String == fixture.envelope })
        fixture.expectKeyNeverPrinted()
    }

    @Test func theKeyComesOnlyFromTheNamedEnvironmentVariable() async throws {
        let fixture = try await Fixture()
        let arguments = ["--server", fixture.url, "--audience", Self.audience, "--capabilities", Self.mail]

        let unset = try CLI.run(["authorize"] + arguments, environment: [:])
        Self.expectError(unset, "api_key_missing")
        #expect(unset.stderr.contains("CHARTER_API_KEY"))
        Self.expectError(
            try CLI.run(["authorize"] + arguments, environment: ["CHARTER_API_KEY": ""]), "api_key_missing")
        for revoke in [["tokens", "revoke", "bafkreix"], ["envelopes", "revoke", fixture.envelope]] {
            Self.expectError(try CLI.run(revoke + ["--server", fixture.url], environment: [:]), "api_key_missing")
        }

        let elsewhere = try fixture.run(
            "authorize", "--key-env", "AGENT_KEY", "--server", fixture.url, "--audience", Self.audience,
            "--capabilities", Self.mail)
        Self.expectError(elsewhere, "api_key_missing")
        #expect(elsewhere.stderr.contains("AGENT_KEY"), "names the variable it looked in")
        let named = try fixture.run(
            "authorize", "--key-env", "AGENT_KEY", "--server", fixture.url, "--audience", Self.audience,
            "--capabilities", Self.mail, environment: ["AGENT_KEY": fixture.key])
        #expect(named.status == 0, "\(named.stderr)")

        let asArgument = try fixture.run(
            "authorize", "--key", fixture.key, "--server", fixture.url, "--audience", Self.audience,
            "--capabilities", Self.mail)
        #expect(asArgument.status == 64, "there is no option that takes the key")

        let wrong = try fixture.run(
            "authorize", "--server", fixture.url, "--audience", Self.audience, "--capabilities", Self.mail,
            environment: ["CHARTER_API_KEY": fixture.key + "x"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.hasPrefix("error: api_key_"), "\(wrong.stderr)")
        // The refused key extends the real one, so this also proves the refused key is not echoed.
        fixture.expectKeyNeverPrinted()
    }

    @Test func badInputIsRefusedLocallyAndAnUnreachableServerInOneLine() throws {
        let nowhere = "http://127.0.0.1:1"
        let key = "chr_live_notarealkeybutnonempty"
        let environment = ["CHARTER_API_KEY": key]
        func authorize(_ capabilities: String, audience: String = Self.audience) throws -> CLI.Result {
            try CLI.run(
                ["authorize", "--server", nowhere, "--audience", audience, "--capabilities", capabilities],
                environment: environment)
        }
        // Exit 64 rather than the unreachable server's 1: these never leave the machine.
        for capabilities in ["[]", "not json", #"{"mailto:*":{"email/send":[]}}"#] {
            let result = try authorize(capabilities)
            #expect(result.status == 64, "\(capabilities)")
            #expect(result.stderr.contains("--capabilities"), "\(result.stderr)")
        }
        let audience = try authorize(Self.mail, audience: "did:web:example.com")
        #expect(audience.status == 64)
        #expect(audience.stderr.contains("--audience"))
        let scheme = try CLI.run(
            ["authorize", "--server", "ftp://127.0.0.1", "--audience", Self.audience, "--capabilities", Self.mail],
            environment: environment)
        #expect(scheme.status == 64)
        #expect(scheme.stderr.contains("--server"))

        let unreachable = try authorize(Self.mail)
        Self.expectError(unreachable, "server_unreachable")
        #expect(!unreachable.stderr.contains(key))
        Self.expectError(
            try CLI.run(["tokens", "revoke", "bafkreix", "--server", nowhere], environment: environment),
            "server_unreachable")
    }
}
