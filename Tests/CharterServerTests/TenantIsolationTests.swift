import CharterCore
import Foundation
import Testing
import UCAN

/// Issue 17's attacks by one tenant on another, and by a restricted key on its own limits, each performed
/// against the live server.
@Suite struct TenantIsolationTests {
    static let audience = DID(publicKey: Ed25519.SigningKey().publicKey)

    /// The issuers `/v1/issuers` lists for `org`, by environment.
    static func issuers(_ client: Client, of org: String) async throws -> [String: [String]] {
        let list = try #require(try await client.get("/v1/issuers", key: nil).json["issuers"]?.arrayValue)
        var found: [String: [String]] = [:]
        for issuer in list where issuer["org"]?.stringValue == org {
            found[issuer["environment"]?.stringValue ?? "?", default: []].append(issuer["did"]?.stringValue ?? "?")
        }
        return found
    }

    @Test func eachOrganizationSignsWithItsOwnIssuerAndRotatesOnlyThat() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let victim = server.owner
        let attacker = try await server.secondOrganization()
        try await server.run { client in
            _ = try await client.createEnvelope(victim.ownerKey, app: victim.app.id)
            _ = try await client.createEnvelope(attacker.ownerKey, app: attacker.app.id)
            let victims = try await client.mint(victim.ownerKey, audience: Self.audience)
            let attackers = try await client.mint(attacker.ownerKey, audience: Self.audience)
            #expect(victims.payload.issuer != attackers.payload.issuer)
            #expect(
                try await Self.issuers(client, of: victim.organization.id)["live"] == [victims.payload.issuer.string])

            // The attacker's rotation makes a new issuer for the attacker's organization only.
            let rotated = try await client.post(
                "/v1/signing-keys/rotate", key: attacker.ownerKey, json: ["environment": "live"])
            #expect(rotated.status == .ok)
            #expect(rotated.json["retired"]?["did"]?.stringValue == attackers.payload.issuer.string)
            #expect(rotated.json["active"]?["org"]?.stringValue == attacker.organization.id)
            let after = try await client.mint(victim.ownerKey, audience: Self.audience)
            #expect(after.payload.issuer == victims.payload.issuer)
            #expect(
                try await Self.issuers(client, of: victim.organization.id)["live"] == [victims.payload.issuer.string])
            #expect(try await Self.issuers(client, of: attacker.organization.id)["live"]?.count == 2)
        }
        // The rotation is in the attacker's trail, and nothing of it in the victim's.
        func rotations(_ org: String) async throws -> Int {
            try await server.store.auditRecords(orgID: org, query: AuditQuery(action: "signing_key.rotate", limit: 10))
                .count
        }
        #expect(try await rotations(attacker.organization.id) == 1)
        #expect(try await rotations(victim.organization.id) == 0)
    }

    @Test func aTestKeyManagesOnlyTheTestEnvironment() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let testApp = try #require(
                try await client.post(
                    "/v1/apps", key: owner.ownerKey, json: ["name": "staging", "environment": "test"]
                ).json["id"]?.stringValue)
            let (testAdmin, _) = try await client.createKey(owner.ownerKey, app: testApp, role: "admin")
            #expect(testAdmin.hasPrefix("chr_test_"))

            // The attack: a test admin key creating a live key for a live app.
            let live = try await client.post(
                "/v1/keys", key: testAdmin, json: ["app_id": .string(owner.app.id), "label": "x", "role": "agent"])
            #expect(live.status == .notFound)
            #expect(try await client.get("/v1/apps/\(owner.app.id)", key: testAdmin).status == .notFound)
            let ownKeyID = try await client.get("/v1/me", key: owner.ownerKey).json["key"]?["id"]?.stringValue ?? ""
            #expect(try await client.post("/v1/keys/\(ownKeyID)/revoke", key: testAdmin).status == .notFound)
            let apps = try await client.get("/v1/apps", key: testAdmin).json["apps"]?.arrayValue ?? []
            #expect(apps.compactMap { $0["id"]?.stringValue } == [testApp])
            let keys = try await client.get("/v1/keys", key: testAdmin).json["keys"]?.arrayValue ?? []
            #expect(keys.allSatisfy { $0["environment"]?.stringValue == "test" } && !keys.isEmpty)
            let liveApp = try await client.post(
                "/v1/apps", key: testAdmin, json: ["name": "prod", "environment": "live"])
            #expect(liveApp.status == .forbidden && liveApp.code == "permission_denied")
            let liveEnvelope = try await client.post(
                "/v1/envelopes", key: testAdmin,
                json: [
                    "app_id": .string(owner.app.id), "name": "e", "capabilities": Client.mailCapabilities,
                    "max_ttl_seconds": 60,
                ])
            #expect(liveEnvelope.status == .notFound)
            let rotateLive = try await client.post(
                "/v1/signing-keys/rotate", key: testAdmin, json: ["environment": "live"])
            #expect(rotateLive.status == .forbidden && rotateLive.code == "permission_denied")

            // Within its environment it manages as before; the live owner key reaches both.
            let (agent, _) = try await client.createKey(testAdmin, app: testApp, role: "agent")
            #expect(agent.hasPrefix("chr_test_"))
            #expect(
                try await client.post("/v1/signing-keys/rotate", key: testAdmin, json: ["environment": "test"]).status
                    == .ok)
            _ = try await client.createKey(owner.ownerKey, app: testApp, role: "agent")
            #expect(
                try await client.get("/v1/apps", key: owner.ownerKey).json["apps"]?.arrayValue?.count == 2)
        }
    }

    @Test func aRestrictedKeyCannotShedItsRestrictionsByCreatingAKey() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let expiry = format.string(from: Date().addingTimeInterval(10 * 86_400))
            let (restricted, _) = try await client.createKey(
                owner.ownerKey, app: owner.app.id, role: "admin",
                extra: [
                    "allowed_endpoints": ["/v1/keys*"], "ip_allowlist": ["127.0.0.0/8"], "rate_limit_per_minute": 50,
                    "expires_at": .string(expiry),
                ])
            // What the request leaves out, the new key inherits.
            let created = try await client.post(
                "/v1/keys", key: restricted, json: ["app_id": .string(owner.app.id), "label": "child", "role": "agent"])
            #expect(created.status == .created, "\(created.text)")
            let child = try #require(created.json["api_key"])
            #expect(child["allowed_endpoints"] == ["/v1/keys*"])
            #expect(child["ip_allowlist"] == ["127.0.0.0/8"])
            #expect(child["rate_limit_per_minute"] == 50)
            #expect(child["expires_at"]?.stringValue == expiry)

            // Anything wider is refused, naming the field.
            for (field, value) in [
                ("allowed_endpoints", ["/v1/*"]), ("ip_allowlist", ["0.0.0.0/0"]), ("rate_limit_per_minute", 51),
                ("expires_at", "2100-01-01T00:00:00Z"), ("expires_in_days", 11),
            ] as [(String, JSONValue)] {
                let wider = try await client.post(
                    "/v1/keys", key: restricted,
                    json: [
                        "app_id": .string(owner.app.id), "label": .string("w-\(field)"), "role": "agent", field: value,
                    ])
                #expect(wider.status == .unprocessableContent, "\(field): \(wider.text)")
                #expect(wider.json["error"]?["field"]?.stringValue == field)
            }
            // Nor may it duplicate or edit a key freer than itself.
            let (_, freeID) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            let duplicate = try await client.post("/v1/keys/\(freeID)/duplicate", key: restricted)
            #expect(duplicate.status == .forbidden && duplicate.code == "permission_denied", "\(duplicate.text)")
            let edit = try await client.call(
                .patch, "/v1/keys/\(freeID)", key: restricted, json: ["label": "renamed"])
            #expect(edit.status == .forbidden && edit.code == "permission_denied")
            // A key at most as free as itself it still edits.
            let childID = try #require(child["id"]?.stringValue)
            let narrowed = try await client.call(.patch, "/v1/keys/\(childID)", key: restricted, json: ["label": "c2"])
            #expect(narrowed.status == .ok, "\(narrowed.text)")
        }
    }

    @Test func aTokenTooLargeForVerifiersIsRefusedBeforeSigningAndAudited() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            _ = try await client.createEnvelope(
                owner.ownerKey, app: owner.app.id, capabilities: ["https://*": ["api/call": [[:]]]])
            var capabilities: JSONObject = [:]
            for index in 0..<240 {
                let path = String(repeating: "p", count: 80)
                capabilities["https://api.example.com/\(index)/\(path)"] = ["api/call": [[:]]]
            }
            let reply = try await client.authorize(
                owner.ownerKey, audience: Self.audience, capabilities: .object(capabilities))
            #expect(reply.status == .unprocessableContent, "\(reply.text)")
            #expect(reply.json["error"]?["field"]?.stringValue == "capabilities")
            #expect(reply.json["error"]?["message"]?.stringValue?.contains("32768") == true)
        }
        let denied = try await server.store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: "token.mint", outcome: .denied, limit: 10))
        #expect(denied.count == 1)
        #expect(denied.first?.event.reason == "validation_failed")
    }

    @Test func eachOrganizationsFeedHoldsOnlyItsOwnEntriesUnderAHeadItsIssuerSigns() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        let other = try await server.secondOrganization()
        try await server.run { client in
            let envelope = try await client.createEnvelope(owner.ownerKey, app: owner.app.id)
            let token = try await client.mint(owner.ownerKey, audience: Self.audience)
            #expect(try await client.post("/v1/envelopes/\(envelope)/revoke", key: owner.ownerKey).status == .ok)

            let mine = try await client.get(
                "/v1/revocations?org=\(owner.organization.id)&environment=live", key: nil)
            #expect(mine.status == .ok)
            #expect(mine.json["revocations"]?.arrayValue?.compactMap { $0["revoke"]?.stringValue } == [envelope])
            let head = try #require(mine.json["head"]?.objectValue)
            #expect(head["iss"]?.stringValue == token.payload.issuer.string)
            #expect(head["org"]?.stringValue == owner.organization.id)
            #expect(head["next_since"] == mine.json["next_since"] && head["seq"] == mine.json["next_since"])
            var unsigned = head
            let text = try #require(unsigned.removeValue(forKey: "signature")?.stringValue)
            let signature = try #require(Base64URL.decode(text))
            #expect(token.payload.issuer.publicKey.isValidSignature(signature, for: FeedPage.signedMessage(unsigned)))
            #expect(head["entries"]?.stringValue == FeedPage.digest(mine.json["revocations"] ?? .null))

            let theirs = try await client.get(
                "/v1/revocations?org=\(other.organization.id)&environment=live", key: nil)
            #expect(theirs.json["revocations"] == [])
            #expect(theirs.json["head"]?["iss"]?.stringValue != token.payload.issuer.string)
            #expect(
                try await client.get("/v1/revocations?org=org_nobody&environment=live", key: nil).status == .notFound)
            #expect(try await client.get("/v1/revocations", key: nil).status == .unprocessableContent)
        }
    }
}
