import CharterTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two `charter serve` processes on one PostgreSQL database, as operators run replicas.
@Suite(.serialized, .enabled(if: TestPostgres.isAvailable, "needs the PostgreSQL server `make test` starts"))
struct ReplicaTests {
    static var mail: [String: Any] { ["mailto:*": ["email/send": [[String: Any]()]]] }
    static let audience = "did:key:z6MkpTYBshrFQiBoTeZfWt8V59oCZ9np6dQJSFgBhJti3nnV"

    /// Replicas A and B on a fresh database sharing one master key; A initialized it.
    final class Pair: Sendable {
        let database: String
        let environment: [String: String]
        let a: ServerProcess
        let b: ServerProcess
        let owner: String
        let appID: String

        init() async throws {
            let database = try await TestPostgres.freshDatabase()
            self.database = database
            let masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            environment = ["CHARTER_MASTER_KEY": masterKey]
            a = try ServerProcess(database: database, environment: environment)
            b = try ServerProcess(database: database, environment: environment)
            owner = try #require(a.ownerKey)
            let apps = try ReplicaTests.object(try await a.get("/v1/apps", key: owner).body)
            appID = try #require((apps["apps"] as? [[String: Any]])?.first?["id"] as? String)
        }

        func stop() {
            a.stop()
            b.stop()
        }

        /// Creates a key through A; returns its plaintext and id.
        func key(_ label: String, role: String = "admin") async throws -> (secret: String, id: String) {
            let reply = try await a.post(
                "/v1/keys", key: owner, json: ["app_id": appID, "label": label, "role": role])
            #expect(reply.status == 201, "\(reply.body)")
            let body = try ReplicaTests.object(reply.body)
            return (
                try #require(body["key"] as? String),
                try #require((body["api_key"] as? [String: Any])?["id"] as? String)
            )
        }

        func envelope(_ name: String) async throws -> String {
            let reply = try await a.post(
                "/v1/envelopes", key: owner,
                json: ["app_id": appID, "name": name, "capabilities": ReplicaTests.mail, "max_ttl_seconds": 600])
            #expect(reply.status == 201, "\(reply.body)")
            return try #require(try ReplicaTests.object(reply.body)["id"] as? String)
        }

        func authorize(on server: ServerProcess, key: String? = nil, envelope: String? = nil) async throws
            -> (status: Int, body: String)
        {
            var request: [String: Any] = [
                "audience": ReplicaTests.audience,
                "capabilities": ["mailto:a@example.com": ["email/send": [[String: Any]()]]],
            ]
            request["envelope_id"] = envelope
            return try await server.post("/v1/authorize", key: key ?? owner, json: request)
        }
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func code(_ reply: (status: Int, body: String)) -> String? {
        ((try? object(reply.body))?["error"] as? [String: Any])?["code"] as? String
    }

    @Test func aKeyRevokedOrNarrowedThroughOneReplicaIsRefusedByTheOtherOnItsNextRequest() async throws {
        let pair = try await Pair()
        defer { pair.stop() }
        for round in 0..<10 {
            let key = try await pair.key("revoked-\(round)")
            #expect(try await pair.b.get("/v1/me", key: key.secret).status == 200, "B has the key cached")
            let revoked = try await pair.a.post("/v1/keys/\(key.id)/revoke", key: pair.owner, json: [:])
            #expect(revoked.status == 200, "\(revoked.body)")
            let after = try await pair.b.get("/v1/me", key: key.secret)
            #expect(after.status == 401 && Self.code(after) == "api_key_revoked", "round \(round): \(after.body)")
        }

        let narrowed = try await pair.key("narrowed")
        #expect(try await pair.b.get("/v1/keys", key: narrowed.secret).status == 200)
        var patch = URLRequest(url: URL(string: "http://127.0.0.1:\(pair.a.port)/v1/keys/\(narrowed.id)")!)
        patch.httpMethod = "PATCH"
        patch.setValue("Bearer \(pair.owner)", forHTTPHeaderField: "Authorization")
        patch.setValue("application/json", forHTTPHeaderField: "Content-Type")
        patch.httpBody = Data(#"{"permissions": ["org.read"]}"#.utf8)
        let (_, response) = try await URLSession.shared.data(for: patch)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let listing = try await pair.b.get("/v1/keys", key: narrowed.secret)
        #expect(listing.status == 403 && Self.code(listing) == "permission_denied", "\(listing.body)")
    }

    @Test func anEnvelopeOrTokenRevokedThroughOneReplicaIsRefusedByTheOther() async throws {
        let pair = try await Pair()
        defer { pair.stop() }
        let envelope = try await pair.envelope("mail")
        let minted = try await pair.authorize(on: pair.b, envelope: envelope)
        #expect(minted.status == 200, "B has the envelope cached: \(minted.body)")
        let cid = try #require(try Self.object(minted.body)["cid"] as? String)

        let tokenRevoked = try await pair.a.post("/v1/tokens/\(cid)/revoke", key: pair.owner, json: [:])
        #expect(tokenRevoked.status == 200, "\(tokenRevoked.body)")
        let me = try Self.object(try await pair.b.get("/v1/me", key: pair.owner).body)
        let org = try #require((me["organization"] as? [String: Any])?["id"] as? String)
        let feed = try await pair.b.get("/v1/revocations?org=\(org)&environment=live", key: nil)
        #expect(feed.body.contains(cid), "B publishes the token's revocation at once")
        let again = try await pair.b.post("/v1/tokens/\(cid)/revoke", key: pair.owner, json: [:])
        #expect(again.status == 409, "B knows the token is already revoked: \(again.body)")

        let envelopeRevoked = try await pair.a.post("/v1/envelopes/\(envelope)/revoke", key: pair.owner, json: [:])
        #expect(envelopeRevoked.status == 200, "\(envelopeRevoked.body)")
        let refused = try await pair.authorize(on: pair.b, envelope: envelope)
        #expect(refused.status == 403 && Self.code(refused) == "envelope_revoked", "\(refused.body)")
    }

    @Test func aDashboardSessionStartedOnOneReplicaIsServedAndEndedByTheOther() async throws {
        let pair = try await Pair()
        defer { pair.stop() }
        let signIn = try await pair.a.dashboard("/dashboard/sign-in", form: ["key": pair.owner])
        #expect(signIn.status == 303 && signIn.location == "/dashboard")
        let session = try #require(signIn.session)

        let onB = try await pair.b.dashboard("/dashboard/apps", session: session)
        #expect(onB.status == 200 && onB.body.contains("Sign out"), "B serves A's session: \(onB.status)")
        let csrf = try #require(onB.csrf)
        #expect(try await pair.a.dashboard("/dashboard/apps", session: session).csrf == csrf, "one CSRF token")
        // A base64url token: nothing in it needs quoting.
        let byHash = try await TestPostgres.scalar(
            pair.database,
            "SELECT COUNT(*)::text FROM dashboard_sessions WHERE id = sha256(convert_to('\(session)', 'UTF8'))")
        #expect(byHash == "1", "one session, stored as its token's SHA-256")

        let created = try await pair.b.dashboard(
            "/dashboard/apps", session: session, form: ["csrf": csrf, "name": "billing", "environment": "live"])
        #expect(created.status == 303, "a form posted on B: \(created.body)")
        let apps = try await pair.a.get("/v1/apps", key: pair.owner)
        #expect(apps.body.contains("billing"))

        let signOut = try await pair.b.dashboard("/dashboard/sign-out", session: session, form: ["csrf": csrf])
        #expect(signOut.status == 303 && signOut.location == "/dashboard/sign-in")
        let afterOnA = try await pair.a.dashboard("/dashboard/apps", session: session)
        #expect(afterOnA.status == 303 && afterOnA.location == "/dashboard/sign-in", "signed out on A too")
        #expect(try await TestPostgres.scalar(pair.database, "SELECT COUNT(*)::text FROM dashboard_sessions") == "0")
    }

    @Test func aKeysRateLimitHoldsAcrossBothReplicas() async throws {
        let pair = try await Pair()
        defer { pair.stop() }
        let created = try await pair.a.post(
            "/v1/keys", key: pair.owner,
            json: ["app_id": pair.appID, "label": "limited", "role": "agent", "rate_limit_per_minute": 30])
        let key = try #require(try Self.object(created.body)["key"] as? String)
        let started = Date()
        var allowed = 0
        var refused: [(status: Int, body: String)] = []
        for call in 0..<90 {
            let reply = try await (call % 2 == 0 ? pair.a : pair.b).get("/v1/me", key: key)
            if reply.status == 200 { allowed += 1 } else { refused.append(reply) }
        }
        // The only slack is what refilled while the calls ran: one call per two seconds.
        let refilled = Int(Date().timeIntervalSince(started) / 2) + 1
        #expect((30...30 + refilled).contains(allowed), "30 a minute in all, not 30 per replica: \(allowed)")
        #expect(refused.allSatisfy { $0.status == 429 && Self.code($0) == "rate_limited" })
    }

    @Test func concurrentWritesThroughBothReplicasKeepOneUnbrokenChainAndExactUsage() async throws {
        let pair = try await Pair()
        let envelope = try await pair.envelope("load")
        let worker = try await pair.key("worker")
        let writes = 60
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<writes {
                let server = index.isMultiple(of: 2) ? pair.a : pair.b
                group.addTask {
                    let created = try await server.post(
                        "/v1/keys", key: pair.owner,
                        json: ["app_id": pair.appID, "label": "k\(index)", "role": "member"])
                    #expect(created.status == 201, "\(created.body)")
                    let minted = try await pair.authorize(on: server, key: worker.secret, envelope: envelope)
                    #expect(minted.status == 200, "\(minted.body)")
                }
            }
            try await group.waitForAll()
        }
        pair.stop()  // each replica flushes its usage counts on the way out

        let usage = try await TestPostgres.scalar(
            pair.database, "SELECT usage_count::text FROM api_keys WHERE id = '\(worker.id)'")
        #expect(usage == "\(writes)", "both replicas' counts add up")
        let gapless = try await TestPostgres.scalar(
            pair.database, "SELECT (COUNT(*) = MAX(seq))::text FROM audit_records")
        #expect(gapless == "true", "seq has no gap")
        let verify = try CLI.run("audit", "verify", "--database", pair.database)
        #expect(verify.status == 0, "\(verify.stderr)")
        let records = try await TestPostgres.scalar(pair.database, "SELECT COUNT(*)::text FROM audit_records")
        #expect(verify.stdout.contains("\(records ?? "?") records verified"), "\(verify.stdout)")
        #expect(Int(records ?? "") ?? 0 >= 2 * writes)
    }

    @Test func replicasStartingTogetherOnAnEmptyDatabaseInitializeItOnce() async throws {
        let database = try await TestPostgres.freshDatabase()
        let environment = ["CHARTER_MASTER_KEY": Data(repeating: 7, count: 32).base64EncodedString()]
        async let first = Task.detached { try ServerProcess(database: database, environment: environment) }.value
        async let second = Task.detached { try ServerProcess(database: database, environment: environment) }.value
        let servers = try await [first, second]
        defer { servers.forEach { $0.stop() } }
        #expect(servers.compactMap(\.ownerKey).count == 1, "exactly one replica created the owner key")
        #expect(try await TestPostgres.scalar(database, "SELECT COUNT(*)::text FROM organizations") == "1")
        #expect(
            try await TestPostgres.scalar(
                database, "SELECT COUNT(*)::text FROM charter_migrations WHERE name = 'v7-envelope-commands'") == "1",
            "the newest migration was applied once")
        let owner = try #require(servers.compactMap(\.ownerKey).first)
        for server in servers { #expect(try await server.get("/v1/me", key: owner).status == 200) }
    }

    @Test func theDatabaseHoldsNoPlaintextKeyAndNoLogShowsThePassword() async throws {
        let database = try await TestPostgres.freshDatabase()
        let password = try #require(URLComponents(string: database)?.password)
        let server = try ServerProcess(
            database: database, environment: ["CHARTER_MASTER_KEY": Data(count: 32).base64EncodedString()],
            arguments: ["--log-level", "trace"])
        let owner = try #require(server.ownerKey)
        let apps = try Self.object(try await server.get("/v1/apps", key: owner).body)
        let appID = try #require((apps["apps"] as? [[String: Any]])?.first?["id"] as? String)
        let created = try await server.post(
            "/v1/keys", key: owner, json: ["app_id": appID, "label": "secret", "role": "member"])
        let secret = try #require(try Self.object(created.body)["key"] as? String)
        server.stop()
        #expect(!server.output.contains(password), "the password is in the server's trace log")

        let dump = try await TestPostgres.scalar(
            database,
            """
            SELECT string_agg(t::text, ' ') FROM (
                SELECT row_to_json(k)::text AS t FROM api_keys k
                UNION ALL SELECT row_to_json(a)::text FROM audit_records a) rows
            """)
        let text = try #require(dump)
        #expect(!text.contains(secret) && !text.contains(owner), "a plaintext key is stored")
        #expect(text.contains("\\\\x"), "the dump holds the hashes, so it is not empty")

        let wrong = "wrong-\(UUID().uuidString)"
        var components = try #require(URLComponents(string: database))
        components.password = wrong
        let refused = try CLI.run("init", "--database", try #require(components.string))
        #expect(refused.status != 0)
        #expect(!(refused.stdout + refused.stderr).contains(wrong), "an error quoted the password")
    }

    @Test func aReadOnlyDatabaseRefusesEveryChangeWith5xxAndChangesNothing() async throws {
        let pair = try await Pair()
        defer { pair.stop() }
        let key = try await pair.key("survivor")
        let name = try #require(URLComponents(string: pair.database)?.path.dropFirst())
        func readOnly(_ on: Bool) async throws {
            _ = try await TestPostgres.scalar(
                pair.database,
                on
                    ? "ALTER DATABASE \(name) SET default_transaction_read_only = on"
                    : "ALTER DATABASE \(name) RESET default_transaction_read_only",
                session: ["SET default_transaction_read_only = off"])
            // Sessions already open keep their setting: end them, so every replica reconnects read-only.
            _ = try await TestPostgres.scalar(
                pair.database,
                """
                SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity
                WHERE datname = '\(name)' AND pid <> pg_backend_pid()
                """)
        }
        let counts = """
            SELECT (SELECT COUNT(*) FROM api_keys) || '/' || (SELECT COUNT(*) FROM audit_records)
                || '/' || (SELECT COUNT(*) FROM minted_tokens)
            """
        try await readOnly(true)
        let before = try await TestPostgres.scalar(pair.database, counts)
        for attempt in 0..<2 {  // the first request on a terminated connection may fail differently
            let created = try await pair.a.post(
                "/v1/keys", key: pair.owner, json: ["app_id": pair.appID, "label": "new-\(attempt)", "role": "member"])
            #expect(created.status >= 500, "\(created.body)")
            let revoked = try await pair.b.post("/v1/keys/\(key.id)/revoke", key: pair.owner, json: [:])
            #expect(revoked.status >= 500, "\(revoked.body)")
        }
        #expect(try await TestPostgres.scalar(pair.database, counts) == before, "nothing changed")
        #expect(try await pair.b.get("/v1/me", key: key.secret).status == 200, "reads go on; the key is not revoked")
        try await readOnly(false)
        var created = try await pair.a.post(
            "/v1/keys", key: pair.owner, json: ["app_id": pair.appID, "label": "after", "role": "member"])
        if created.status >= 500 {  // again, a connection that was just terminated
            created = try await pair.a.post(
                "/v1/keys", key: pair.owner, json: ["app_id": pair.appID, "label": "after", "role": "member"])
        }
        #expect(created.status == 201, "writable again")
    }

    @Test func aReplicaWithoutTheSharedMasterKeyRefusesToStart() async throws {
        let database = try await TestPostgres.freshDatabase()
        do {
            try ServerProcess(database: database).stop()
            Issue.record("a replica started without a master key")
        } catch let error as ServerDidNotStart {
            #expect(error.output.contains("need the same master key"), "\(error.output)")
        }
        #expect(
            try await TestPostgres.scalar(database, "SELECT COUNT(*)::text FROM signing_keys") == "0",
            "no key file was invented and nothing was sealed")
    }

    @Test func tlsModesConnectOrRefuseAsAsked() async throws {
        let database = try await TestPostgres.freshDatabase()
        let authority = try #require(TestPostgres.certificateAuthority)
        func initialize(_ host: String, _ options: String) throws -> CLI.Result {
            var components = try #require(URLComponents(string: database))
            components.host = host
            components.percentEncodedQuery = options
            return try CLI.run("init", "--database", try #require(components.string))
        }
        #expect(try initialize("localhost", "sslmode=verify-full&sslrootcert=\(authority)").status == 0)
        #expect(try initialize("127.0.0.1", "sslmode=require&pool_max_connections=2&connect_timeout=5").status == 0)
        #expect(try initialize("127.0.0.1", "sslmode=disable").status == 0)
        let untrusted = try initialize("localhost", "sslmode=verify-full")
        #expect(untrusted.status != 0, "a certificate from an unknown CA is refused")
        let typo = try initialize("localhost", "sslmod=require")
        #expect(typo.status != 0 && typo.stderr.contains("unknown option sslmod"), "\(typo.stderr)")
    }
}
