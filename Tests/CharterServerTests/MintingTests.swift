import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import HTTPTypes
import Testing
import UCAN

/// `/v1/authorize`, envelopes, the revocation feed and signing keys, against the real server and SQLite file.
@Suite struct MintingTests {
    static let agent = Ed25519.SigningKey()
    static var audience: DID { DID(publicKey: agent.publicKey) }

    /// The path of the live revocation feed of `owner`'s organization.
    static func feed(_ owner: Setup.Created, since: Int64? = nil) -> String {
        "/v1/revocations?org=\(owner.organization.id)&environment=live" + (since.map { "&since=\($0)" } ?? "")
    }

    /// The issuer DIDs `/v1/issuers` publishes, as an offline verifier would trust them.
    static func issuers(_ client: Client) async throws -> [JSONValue] {
        let reply = try await client.get("/v1/issuers", key: nil)
        #expect(reply.status == .ok)
        return reply.json["issuers"]?.arrayValue ?? []
    }

    static func trustedIssuers(_ client: Client) async throws -> Set<DID> {
        Set(try await issuers(client).compactMap { $0["did"]?.stringValue }.map { try DID($0) })
    }

    static func validate(_ token: UCAN, trusting issuers: Set<DID>) throws -> ValidatedChain {
        try Validator(policy: ValidationPolicy(trustedIssuers: issuers, audiences: [audience]))
            .validate(token, now: Int64(Date().timeIntervalSince1970))
    }

    @Test func aMintedTokenVerifiesOfflineAndSaysWhereItCameFrom() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let envelope = try await client.createEnvelope(owner.ownerKey, app: owner.app.id, maxTTL: 300)
            let (agentKey, agentKeyID) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            let before = Int64(Date().timeIntervalSince1970)
            let reply = try await client.authorize(
                agentKey, audience: Self.audience, extra: ["ttl_seconds": 120, "facts": ["ticket": "T-1"]])
            let after = Int64(Date().timeIntervalSince1970)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.headers[.cacheControl] == "no-store")
            let token = try UCAN(parsing: try #require(reply.json["token"]?.stringValue))
            #expect(reply.json["cid"]?.stringValue == token.cid.string)
            #expect(reply.json["envelope_id"]?.stringValue == envelope)
            #expect(reply.json["issuer"]?.stringValue == token.payload.issuer.string)

            let chain = try Self.validate(token, trusting: try await Self.trustedIssuers(client))
            #expect(chain.rootIssuers == [token.payload.issuer])
            let payload = token.payload
            #expect(payload.audience == Self.audience)
            #expect(payload.proofs.isEmpty)
            let expiration = try #require(payload.expiration)
            // Minted between `before` and `after`, however long the request took on a busy machine.
            #expect((before + 120...after + 120).contains(expiration))
            #expect(payload.nonce?.isEmpty == false)
            #expect(
                payload.facts == [
                    "org": .string(owner.organization.id), "env": "live", "app": .string(owner.app.id),
                    "envelope": .string(envelope), "key": .string(agentKeyID), "ticket": "T-1",
                ])
            #expect(payload.capabilities.all.count == 1)
            #expect(payload.capabilities.all.first?.resource == "mailto:a@example.com")

            // The mint's audit record was durable before the token came back: no flush needed to see it.
            let audit = try await client.get("/v1/audit?action=token.mint", key: owner.ownerKey)
            let record = try #require(audit.json["records"]?.arrayValue?.first)
            #expect(record["target"]?.stringValue == token.cid.string)
            #expect(record["key_id"]?.stringValue == agentKeyID)
            #expect(record["outcome"]?.stringValue == "success")
            #expect(record["details"]?["audience"]?.stringValue == Self.audience.string)
            #expect(record["details"]?["envelope_id"]?.stringValue == envelope)
            #expect(record["details"]?["expires_at"] == .integer(expiration))
            #expect(record["details"]?["capabilities"] == ["mailto:a@example.com": ["email/send": [[:]]]])
        }
        // The token itself is never stored or logged.
        #expect(!server.logs.all.contains("eyJ"))
    }

    @Test func concurrentMintsGetDistinctNoncesAndEachAnAuditRecord() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        let count = 64
        let tokens = try await server.run { client in
            _ = try await client.createEnvelope(owner.ownerKey, app: owner.app.id)
            return try await withThrowingTaskGroup(of: UCAN.self) { group in
                for _ in 0..<count { group.addTask { try await client.mint(owner.ownerKey, audience: Self.audience) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(Set(tokens.compactMap(\.payload.nonce)).count == count)
        #expect(Set(tokens.map(\.cid)).count == count)
        let records = try await server.store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: "token.mint", limit: 1000))
        #expect(Set(records.compactMap(\.event.target)) == Set(tokens.map(\.cid.string)))
        #expect(server.store.mintTransactions <= count)
    }

    @Test func refusalsCarryTheirCodeAndAreAudited() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let envelope = try await client.createEnvelope(owner.ownerKey, app: owner.app.id, maxTTL: 300)
            let (member, _) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "member")
            let memberReply = try await client.authorize(member, audience: Self.audience)
            #expect(memberReply.status == .forbidden)
            #expect(memberReply.code == "permission_denied")
            #expect(memberReply.text.contains("token.authorize"))

            let key = owner.ownerKey
            let wider = try await client.authorize(
                key, audience: Self.audience, capabilities: ["mailto:a@example.com": ["email/delete": [[:]]]])
            #expect(wider.status == .forbidden)
            #expect(wider.code == "capability_not_in_envelope")
            #expect(wider.text.contains("email/delete"))

            let longer = try await client.authorize(key, audience: Self.audience, extra: ["ttl_seconds": 301])
            #expect(longer.status == .unprocessableContent)
            #expect(longer.code == "ttl_too_long")
            #expect(longer.json["error"]?["field"]?.stringValue == "ttl_seconds")

            for bad in ["did:key:z6Mk", "did:web:example.com", "not a did", ""] {
                let reply = try await client.post(
                    "/v1/authorize", key: key,
                    json: ["audience": .string(bad), "capabilities": ["mailto:a@b.c": ["email/send": [[:]]]]])
                #expect(reply.status == .unprocessableContent, "\(bad)")
                #expect(reply.code == "invalid_audience", "\(bad)")
            }

            let reserved = try await client.authorize(key, audience: Self.audience, extra: ["facts": ["org": "x"]])
            #expect(reserved.code == "validation_failed")
            #expect(reserved.json["error"]?["field"]?.stringValue == "facts.org")

            let malformed = try await client.authorize(
                key, audience: Self.audience, capabilities: ["mailto:a@b.c": ["email/send": []]])
            #expect(malformed.code == "validation_failed")

            // Another app's envelope, in the same organization or another, is as unknown as a missing one.
            let otherApp =
                try await client.post(
                    "/v1/apps", key: key, json: ["name": "other", "environment": "live"]
                ).json["id"]?.stringValue ?? ""
            let otherAppEnvelope = try await client.createEnvelope(key, app: otherApp)
            let otherOrg = try await server.secondOrganization()
            let otherOrgEnvelope = try await client.createEnvelope(otherOrg.ownerKey, app: otherOrg.app.id)
            var answers: Set<String> = []
            for id in [otherAppEnvelope, otherOrgEnvelope, "env_doesnotexist"] {
                let reply = try await client.authorize(
                    key, audience: Self.audience, extra: ["envelope_id": .string(id)])
                #expect(reply.status == .notFound)
                answers.insert(reply.json["error"]?["message"]?.stringValue ?? "")
            }
            #expect(answers.count == 1)

            // An app with no envelope at all.
            let (otherAppKey, _) = try await client.createKey(key, app: otherApp, role: "agent")
            #expect(try await client.post("/v1/envelopes/\(otherAppEnvelope)/revoke", key: key).status == .ok)
            let none = try await client.authorize(otherAppKey, audience: Self.audience)
            #expect(none.status == .forbidden)
            #expect(none.code == "no_active_envelope")

            #expect(try await client.post("/v1/envelopes/\(envelope)/revoke", key: key).status == .ok)
            let revoked = try await client.authorize(
                key, audience: Self.audience, extra: ["envelope_id": .string(envelope)])
            #expect(revoked.status == .forbidden)
            #expect(revoked.code == "envelope_revoked")
        }
        let records = try await server.store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: "token.mint", outcome: .denied, limit: 100))
        let reasons = Set(records.compactMap(\.event.reason))
        #expect(
            reasons.isSuperset(of: [
                "capability_not_in_envelope", "ttl_too_long", "invalid_audience", "validation_failed", "not_found",
                "no_active_envelope", "envelope_revoked",
            ]), "\(reasons)")
        let denied = try await server.store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: "request.denied", limit: 100))
        #expect(denied.contains { $0.event.reason == "permission_denied" })
    }

    @Test func revokingAnEnvelopeKillsEveryTokenMintedUnderIt() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let key = owner.ownerKey
            let doomed = try await client.createEnvelope(key, app: owner.app.id)
            let first = try await client.mint(key, audience: Self.audience)
            let second = try await client.mint(key, audience: Self.audience)
            let revoked = try await client.post("/v1/envelopes/\(doomed)/revoke", key: key)
            #expect(revoked.json["status"]?.stringValue == "revoked")
            #expect(try await client.post("/v1/envelopes/\(doomed)/revoke", key: key).status == .conflict)
            let refused = try await client.authorize(key, audience: Self.audience)
            #expect(refused.code == "no_active_envelope")

            // A verifier syncing the feed learns of it from a signed entry by a published issuer.
            let feed = try await client.get(Self.feed(owner, since: 0), key: nil)
            #expect(feed.status == .ok)
            let entries = try #require(feed.json["revocations"]?.arrayValue)
            #expect(entries.count == 1)
            let entry = try #require(entries.first)
            #expect(entry["kind"]?.stringValue == "envelope")
            #expect(entry["revoke"]?.stringValue == doomed)
            let issuer = try DID(try #require(entry["iss"]?.stringValue))
            #expect(try await Self.trustedIssuers(client).contains(issuer))
            let challenge = try #require(entry["challenge"]?.stringValue)
            let signature = try #require(Base64URL.decode(challenge))
            #expect(issuer.publicKey.isValidSignature(signature, for: Array("REVOKE:\(doomed)".utf8)))
            #expect(!issuer.publicKey.isValidSignature(signature, for: Array("REVOKE:env_other".utf8)))

            let revokedEnvelopes = Set(entries.compactMap { $0["revoke"]?.stringValue })
            for token in [first, second] {
                _ = try Self.validate(token, trusting: try await Self.trustedIssuers(client))
                #expect(token.payload.facts?["envelope"]?.stringValue.map(revokedEnvelopes.contains) == true)
            }

            // Resuming after the last seq returns nothing new; a new envelope mints again.
            let next = try #require(feed.json["next_since"]?.integerValue)
            #expect(try await client.get(Self.feed(owner, since: next), key: nil).json["revocations"] == [])
            _ = try await client.createEnvelope(key, app: owner.app.id)
            let fresh = try await client.mint(key, audience: Self.audience)
            #expect(fresh.payload.facts?["envelope"]?.stringValue != doomed)
        }
    }

    @Test func aTokenIsRevokedByCIDWithAUCANRevocationRecord() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let key = owner.ownerKey
            _ = try await client.createEnvelope(key, app: owner.app.id)
            let token = try await client.mint(key, audience: Self.audience)
            let other = try await server.secondOrganization()
            let foreign = try await client.post("/v1/tokens/\(token.cid)/revoke", key: other.ownerKey)
            #expect(foreign.status == .notFound)
            let unknown = try await client.post(
                "/v1/tokens/bafkreieg7emjv7s2wphhnx75uccggpbyzcy65ii767bhwytcz5cvi3jwqu/revoke", key: key)
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"]?["message"] == foreign.json["error"]?["message"])
            #expect(try await client.post("/v1/tokens/not-a-cid/revoke", key: key).status == .notFound)

            let reply = try await client.post("/v1/tokens/\(token.cid)/revoke", key: key)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.json["cid"]?.stringValue == token.cid.string)
            #expect(reply.json["revoked_at"]?.stringValue != nil)
            #expect(try await client.post("/v1/tokens/\(token.cid)/revoke", key: key).status == .conflict)

            let entry = try #require(
                try await client.get(Self.feed(owner), key: nil).json["revocations"]?.arrayValue?.first)
            #expect(entry["kind"]?.stringValue == "token")
            // Its iss, revoke and challenge are a UCAN 0.10 revocation record for the token's own chain.
            let record = try Revocation(
                json: JSONValue.object([
                    "iss": entry["iss"] ?? .null, "revoke": entry["revoke"] ?? .null,
                    "challenge": entry["challenge"] ?? .null,
                ]).serialized())
            try record.verify(against: try Self.validate(token, trusting: [token.payload.issuer]))
        }
    }

    @Test func rotationKeepsOldTokensVerifyingUntilTheyExpire() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let key = owner.ownerKey
            _ = try await client.createEnvelope(key, app: owner.app.id, maxTTL: 600)
            let old = try await client.mint(key, audience: Self.audience, extra: ["ttl_seconds": 600])
            let rotated = try await client.post("/v1/signing-keys/rotate", key: key, json: ["environment": "live"])
            #expect(rotated.status == .ok, "\(rotated.text)")
            #expect(rotated.json["retired"]?["did"]?.stringValue == old.payload.issuer.string)
            #expect(rotated.json["retired"]?["status"]?.stringValue == "verify_only")
            let new = try await client.mint(key, audience: Self.audience)
            #expect(new.payload.issuer.string == rotated.json["active"]?["did"]?.stringValue)
            #expect(new.payload.issuer != old.payload.issuer)

            let issuers = try await Self.issuers(client)
            #expect(issuers.count == 2)
            let retired = try #require(issuers.first { $0["did"]?.stringValue == old.payload.issuer.string })
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let notAfter = try #require(formatter.date(from: retired["not_after"]?.stringValue ?? ""))
            #expect(notAfter.timeIntervalSince1970 >= Double(old.payload.expiration ?? .max))
            #expect(issuers.first { $0["did"] == new.payload.issuer.string.json }?["not_after"] == .null)
            let trusted = try await Self.trustedIssuers(client)
            _ = try Self.validate(old, trusting: trusted)
            _ = try Self.validate(new, trusting: trusted)

            // Test tokens come from their own issuer and never verify as live ones.
            let testApp =
                try await client.post("/v1/apps", key: key, json: ["name": "sandbox", "environment": "test"])
                .json["id"]?.stringValue ?? ""
            _ = try await client.createEnvelope(key, app: testApp)
            let (testKey, _) = try await client.createKey(key, app: testApp, role: "agent")
            let testToken = try await client.mint(testKey, audience: Self.audience)
            #expect(testToken.payload.facts?["env"] == "test")
            let live = Set(
                try await Self.issuers(client).filter { $0["environment"] == "live" }.compactMap {
                    $0["did"]?.stringValue
                })
            #expect(!live.contains(testToken.payload.issuer.string))
        }
    }

    @Test func aRevokedKeyMintsNothing() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            _ = try await client.createEnvelope(owner.ownerKey, app: owner.app.id)
            let (agent, agentID) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            _ = try await client.mint(agent, audience: Self.audience)
            #expect(try await client.post("/v1/keys/\(agentID)/revoke", key: owner.ownerKey).status == .ok)
            let reply = try await client.authorize(agent, audience: Self.audience)
            #expect(reply.status == .unauthorized)
            #expect(reply.code == "api_key_revoked")
        }
    }

    @Test func theDatabaseAloneCannotSign() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        let token = try await server.run { client in
            _ = try await client.createEnvelope(owner.ownerKey, app: owner.app.id)
            return try await client.mint(owner.ownerKey, audience: Self.audience)
        }
        let record = try #require(try await server.store.signingKeys().first)
        let signer = try await server.controlPlane.signingKeys.key(id: record.id)
        #expect(DID(publicKey: signer.publicKey) == token.payload.issuer)
        let seed = Array(signer.exportSecretKey().prefix(32))
        for suffix in ["", "-wal"] {
            let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: server.databasePath + suffix))) ?? Data())
            #expect(!bytes.isEmpty || suffix == "-wal")
            #expect(bytes.firstRange(of: seed) == nil, "the signing seed is in charter.db\(suffix)")
        }
        // Another master key opens nothing.
        let stranger = ControlPlane(store: server.store, masterKey: SecretBox.Key())
        await #expect(throws: CharterError.self) { try await stranger.signingKeys.checkMasterKey() }
        try await server.controlPlane.signingKeys.checkMasterKey()
    }
}

extension String {
    fileprivate var json: JSONValue { .string(self) }
}
