import CharterCore
import CharterServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import UCAN

/// `/oauth2/token` (RFC 6749 §4.4 with RFC 8707 resources), its metadata (RFC 8414) and the JWKS, against the
/// real server and SQLite file. What independent OAuth and JWT libraries make of them is tested with authlib
/// and PyJWT in the Python suite.
@Suite struct OAuthTokenTests {
    static let service = DID(publicKey: Ed25519.SigningKey().publicKey)
    static let other = DID(publicKey: Ed25519.SigningKey().publicKey)
    static let mcpURL = "https://mail.example.com/mcp"
    static let capabilities: JSONValue = [
        "mailto:*": ["email/send": [["max_recipients": 5]], "email/read": [[:]]],
        "calendar:*": ["calendar/*": [[:]]],
    ]

    /// A token request: `form` is sent as is; `basic` is the `Authorization: Basic` credentials (id, secret).
    static func token(
        _ client: Client, form: String, basic: (String, String)? = nil,
        contentType: String = "application/x-www-form-urlencoded", headers extra: HTTPFields = [:]
    ) async throws -> Client.Reply {
        var headers = extra
        headers[.contentType] = contentType
        if let (id, secret) = basic {
            headers[.authorization] = "Basic " + Data("\(encoded(id)):\(encoded(secret))".utf8).base64EncodedString()
        }
        return try await client.client.execute(
            uri: "/oauth2/token", method: .post, headers: headers, body: ByteBuffer(string: form)
        ) { response in
            Client.Reply(
                status: response.status, headers: response.headers, bytes: Array(response.body.readableBytesView))
        }
    }

    static func encoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))!
    }

    /// An RFC 6749 §5.2 error: the status, `error`, an `error_description`, and never cached.
    static func expectOAuthError(
        _ reply: Client.Reply, _ error: String, _ status: HTTPResponse.Status = .badRequest,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status == status, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.json["error"]?.stringValue == error, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.json["error_description"]?.stringValue != nil, sourceLocation: sourceLocation)
        #expect(reply.json.objectValue.map { Set($0.keys) } == ["error", "error_description"])
        #expect(reply.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
        if status == .unauthorized {
            #expect(reply.headers[.wwwAuthenticate] == #"Basic realm="charter""#, sourceLocation: sourceLocation)
        }
    }

    /// An envelope of ``capabilities`` naming the MCP server and a second service by URL.
    static func envelope(_ client: Client, _ owner: Setup.Created, audiences: JSONValue? = nil) async throws {
        let reply = try await client.post(
            "/v1/envelopes", key: owner.ownerKey,
            json: [
                "app_id": .string(owner.app.id), "name": "oauth", "capabilities": capabilities,
                "max_ttl_seconds": 300,
                "audiences": audiences ?? [
                    .init(stringLiteral: mcpURL): .string(service.string),
                    "https://calendar.example.com/": .string(other.string),
                ],
            ])
        #expect(reply.status == .created, "\(reply.text)")
    }

    /// Runs `body` on `server` once the owner's app has the test envelope and an agent key: with the client, the
    /// agent's secret and its id.
    static func withAgent(
        on server: TestServer, _ body: @escaping @Sendable (Client, _ key: String, _ id: String) async throws -> Void
    ) async throws {
        let owner = server.owner
        try await server.run { client in
            try await envelope(client, owner)
            let (key, id) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            try await body(client, key, id)
        }
    }

    @Test func bothClientAuthenticationMethodsGetAScopedTokenForTheNamedService() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await Self.withAgent(on: server) { client, key, id in
            let resource = "&resource=" + Self.encoded(Self.mcpURL)

            let basic = try await Self.token(
                client, form: "grant_type=client_credentials&scope=email%2Fsend" + resource, basic: (id, key))
            #expect(basic.status == .ok, "\(basic.text)")
            #expect(basic.headers[.cacheControl] == "no-store")
            #expect(basic.json["token_type"] == "Bearer")
            #expect(basic.json["scope"] == "email/send")
            #expect(basic.json["expires_in"]?.integerValue.map { (295...300).contains($0) } == true)
            let token = try UCAN(parsing: try #require(basic.json["access_token"]?.stringValue))
            #expect(token.payload.audience == Self.service, "the resource URL maps to the service's DID")
            #expect(
                token.payload.capabilities.json == ["mailto:*": ["email/send": [["max_recipients": 5]]]],
                "only the scope's grant, with its caveats")
            #expect(token.payload.facts?["key"] == .string(id))

            let post = try await Self.token(
                client,
                form: "grant_type=client_credentials&client_id=\(id)&client_secret=\(Self.encoded(key))"
                    + "&scope=calendar%2Fwrite+email%2Fread&resource=" + Self.encoded(Self.other.string))
            #expect(post.status == .ok, "\(post.text)")
            #expect(post.json["scope"] == "calendar/write email/read")
            let narrowed = try UCAN(parsing: try #require(post.json["access_token"]?.stringValue))
            #expect(narrowed.payload.audience == Self.other, "a did:key names the service itself")
            #expect(
                narrowed.payload.capabilities.json
                    == ["calendar:*": ["calendar/write": [[:]]], "mailto:*": ["email/read": [[:]]]],
                "a wildcard grant is narrowed to the ability asked")

            // No scope: everything the envelope grants.
            let everything = try await Self.token(
                client, form: "grant_type=client_credentials" + resource, basic: (id, key))
            #expect(everything.json["scope"] == "calendar/* email/read email/send")

            // The signature checks against the published key set.
            let jwks = try await client.get("/.well-known/jwks.json", key: nil)
            let keys = try #require(jwks.json["keys"]?.arrayValue)
            let published = try #require(keys.first { $0["kid"]?.stringValue == token.payload.issuer.string })
            #expect(published["kty"] == "OKP" && published["crv"] == "Ed25519" && published["alg"] == "EdDSA")
            #expect(published["did"]?.stringValue == token.payload.issuer.string)
            #expect(published["org"]?.stringValue == owner.organization.id)
            let x = try #require(published["x"]?.stringValue)
            #expect(Base64URL.decode(x) == token.payload.issuer.publicKey.bytes)
        }
    }

    @Test func everyRFC6749ErrorCase() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await Self.withAgent(on: server) { client, key, id in
            let ok = "grant_type=client_credentials&resource=" + Self.encoded(Self.mcpURL)
            let post = "&client_id=\(id)&client_secret=\(Self.encoded(key))"

            // invalid_request
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (id, key), contentType: "application/json"),
                "invalid_request")
            Self.expectOAuthError(
                try await Self.token(client, form: "scope=email%2Fsend", basic: (id, key)), "invalid_request")
            Self.expectOAuthError(
                try await Self.token(client, form: ok + "&scope=a&scope=b", basic: (id, key)), "invalid_request")
            Self.expectOAuthError(try await Self.token(client, form: ok + post, basic: (id, key)), "invalid_request")
            Self.expectOAuthError(
                try await Self.token(client, form: ok + "&client_id=key_other", basic: (id, key)), "invalid_request")
            Self.expectOAuthError(try await Self.token(client, form: ok + "&x=%FF" + post), "invalid_request")

            // invalid_client, 401 with WWW-Authenticate
            Self.expectOAuthError(try await Self.token(client, form: ok), "invalid_client", .unauthorized)
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (id, key + "x")), "invalid_client", .unauthorized)
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (owner.keyID, key)), "invalid_client", .unauthorized)
            Self.expectOAuthError(
                try await Self.token(client, form: ok, headers: [.authorization: "Basic !!!"]), "invalid_client",
                .unauthorized)
            Self.expectOAuthError(
                try await Self.token(client, form: ok, headers: [.authorization: "Bearer \(key)"]), "invalid_client",
                .unauthorized)
            let (fenced, fencedID) = try await client.createKey(
                owner.ownerKey, app: owner.app.id, role: "agent", extra: ["ip_allowlist": ["10.0.0.0/8"]])
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (fencedID, fenced)), "invalid_client", .unauthorized)

            // unauthorized_client: a key that may not mint, by its role or its allowed endpoints.
            let (member, memberID) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "member")
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (memberID, member)), "unauthorized_client")
            let (elsewhere, elsewhereID) = try await client.createKey(
                owner.ownerKey, app: owner.app.id, role: "agent", extra: ["allowed_endpoints": ["/v1/authorize"]])
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (elsewhereID, elsewhere)), "unauthorized_client")

            Self.expectOAuthError(
                try await Self.token(client, form: "grant_type=password&username=a&password=b", basic: (id, key)),
                "unsupported_grant_type")

            // invalid_scope
            Self.expectOAuthError(
                try await Self.token(client, form: ok + "&scope=email%2Fdelete", basic: (id, key)), "invalid_scope")
            Self.expectOAuthError(
                try await Self.token(client, form: ok + "&scope=email%2Fsend++email%2Fread", basic: (id, key)),
                "invalid_scope")
            Self.expectOAuthError(
                try await Self.token(client, form: ok + "&scope=%22email%2Fsend%22", basic: (id, key)),
                "invalid_scope")

            // invalid_target (RFC 8707)
            let target = "grant_type=client_credentials&resource="
            for resource in ["https://unknown.example.com/mcp", "https://mail.example.com/mcp#x", "mailto:a@b.c"] {
                Self.expectOAuthError(
                    try await Self.token(client, form: target + Self.encoded(resource), basic: (id, key)),
                    "invalid_target")
            }
            Self.expectOAuthError(
                try await Self.token(
                    client, form: ok + "&resource=" + Self.encoded(Self.other.string), basic: (id, key)),
                "invalid_target")
            Self.expectOAuthError(
                try await Self.token(client, form: "grant_type=client_credentials", basic: (id, key)),
                "invalid_target", .badRequest)

            // Over the key's rate: 429, with Retry-After.
            let (limited, limitedID) = try await client.createKey(
                owner.ownerKey, app: owner.app.id, role: "agent", extra: ["rate_limit_per_minute": 1])
            #expect(try await Self.token(client, form: ok, basic: (limitedID, limited)).status == .ok)
            let over = try await Self.token(client, form: ok, basic: (limitedID, limited))
            Self.expectOAuthError(over, "temporarily_unavailable", .tooManyRequests)
            #expect(over.headers[.retryAfter] != nil)

            // A revoked key is an unknown client.
            #expect(try await client.post("/v1/keys/\(id)/revoke", key: owner.ownerKey).status == .ok)
            Self.expectOAuthError(
                try await Self.token(client, form: ok, basic: (id, key)), "invalid_client", .unauthorized)
        }
        #expect(!server.logs.all.contains("chr_live_"), "no secret in any log line")
    }

    @Test func theMintIsAuditedUnderTheKeyWithTheGrantAndNoSecretLeaks() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await Self.withAgent(on: server) { client, key, id in
            let minted = try await Self.token(
                client,
                form: "grant_type=client_credentials&scope=email%2Fsend&resource=" + Self.encoded(Self.mcpURL),
                basic: (id, key))
            #expect(minted.status == .ok)
            let refused = try await Self.token(
                client, form: "grant_type=client_credentials&scope=email%2Fdelete", basic: (id, key))
            #expect(refused.status == .badRequest)
            #expect(!refused.text.contains(key) && !minted.text.contains(key))

            let audit = try await client.get("/v1/audit?key_id=\(id)&action=token.mint", key: owner.ownerKey)
            let records = try #require(audit.json["records"]?.arrayValue)
            let success = try #require(records.first { $0["outcome"] == "success" })
            #expect(success["key_id"]?.stringValue == id)
            #expect(success["details"]?["grant_type"] == "client_credentials")
            #expect(success["details"]?["scope"] == "email/send")
            #expect(success["details"]?["resource"]?.stringValue == Self.mcpURL)
            #expect(success["details"]?["capabilities"] == ["mailto:*": ["email/send": [["max_recipients": 5]]]])
        }
        // Refusals are queued and written by the flush that follows the run.
        let denied = try await server.store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: "token.mint", outcome: .denied, limit: 10))
        #expect(denied.map(\.event.reason) == ["capability_not_in_envelope"])
        #expect(!server.logs.all.contains("chr_live_"))
    }

    @Test func theMetadataNamesTheEndpointsUnderTheIssuer() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run(adjusting: { $0.publicURL = "https://charter.example.com" }) { client in
            let reply = try await client.get("/.well-known/oauth-authorization-server", key: nil)
            #expect(reply.status == .ok)
            #expect(reply.json["issuer"] == "https://charter.example.com")
            #expect(reply.json["token_endpoint"] == "https://charter.example.com/oauth2/token")
            #expect(reply.json["jwks_uri"] == "https://charter.example.com/.well-known/jwks.json")
            #expect(reply.json["grant_types_supported"] == ["client_credentials"])
            #expect(
                reply.json["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"])
            #expect(reply.json["authorization_endpoint"] == "https://charter.example.com/oauth2/authorize")

            // The authorization endpoint refuses every request, and never redirects anywhere.
            let authorize = try await client.get(
                "/oauth2/authorize?response_type=code&client_id=key_x&redirect_uri=https%3A%2F%2Fevil.example.com",
                key: nil)
            #expect(authorize.status == .badRequest && authorize.headers[.location] == nil)
            #expect(authorize.json["error"] == "unsupported_response_type")
        }
    }

    @Test func envelopeAudiencesAreCheckedWhenCreated() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            for (audiences, field) in [
                (["ftp://x.example.com": .string(Self.service.string)], "audiences.ftp://x.example.com"),
                (
                    ["https://x.example.com/#frag": .string(Self.service.string)],
                    "audiences.https://x.example.com/#frag"
                ),
                (["https://x.example.com": "did:web:x.example.com"], "audiences.https://x.example.com"),
                ([:] as JSONObject, nil),
            ] as [(JSONObject, String?)] {
                let reply = try await client.post(
                    "/v1/envelopes", key: owner.ownerKey,
                    json: [
                        "app_id": .string(owner.app.id), "name": "bad", "capabilities": Self.capabilities,
                        "max_ttl_seconds": 60, "audiences": .object(audiences),
                    ])
                if let field {
                    #expect(reply.status == .unprocessableContent, "\(reply.text)")
                    #expect(reply.json["error"]?["field"]?.stringValue == field)
                } else {
                    #expect(reply.status == .created)
                    #expect(reply.json["audiences"] == [:])
                }
            }
        }
    }
}
