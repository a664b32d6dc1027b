import CharterCore
import Foundation
import HTTPTypes
import Testing
import UCAN

/// UCAN 1.0 through the control plane: envelopes with command grants, `/v1/authorize` minting delegations, and
/// their revocation, against the real server and SQLite file.
@Suite struct DelegationMintingTests {
    static let agent = Ed25519.SigningKey()
    static var audience: DID { DID(publicKey: agent.publicKey) }
    static let commands: JSONValue = [
        "/email/send": [["like", ".to", "*@example.com"]], "/crm": [],
    ]

    /// Creates an envelope of `commands` and returns its id.
    static func envelope(
        _ client: Client, _ owner: Setup.Created, commands: JSONValue = commands, maxTTL: Int = 600
    ) async throws -> String {
        let reply = try await client.post(
            "/v1/envelopes", key: owner.ownerKey,
            json: [
                "app_id": .string(owner.app.id), "name": .string("e-\(UUID().uuidString.prefix(8))"),
                "commands": commands, "max_ttl_seconds": .integer(Int64(maxTTL)),
            ])
        guard reply.status == .created, let id = reply.json["id"]?.stringValue else {
            throw TestFailure("create envelope failed: \(reply.status) \(reply.text)")
        }
        return id
    }

    /// Asks for a delegation of `command`; the reply whatever its status.
    static func delegate(
        _ client: Client, _ key: String, command: String, extra: JSONObject = [:]
    ) async throws -> Client.Reply {
        var body: JSONObject = [
            "format": "ucan/1.0", "audience": .string(audience.string), "command": .string(command),
        ]
        body.merge(extra) { $1 }
        return try await client.post("/v1/authorize", key: key, json: .object(body))
    }

    static func delegation(_ reply: Client.Reply) throws -> Delegation {
        let text = try #require(reply.json["token"]?.stringValue, "\(reply.status) \(reply.text)")
        return try Delegation(bytes: Array(try #require(Data(base64Encoded: text))))
    }

    /// An invocation of `command` by the agent, citing `delegation`.
    static func invocation(
        _ delegation: Delegation, command: String, arguments: [String: IPLD], expiresIn seconds: Int64 = 60
    ) throws -> [UInt8] {
        try Invocation(
            issuer: agent, subject: try #require(delegation.subject), command: try Command(command),
            arguments: arguments, proofs: [delegation.cid],
            expiration: Int64(Date().timeIntervalSince1970) + seconds
        ).bytes
    }

    @Test func anEnvelopeGrantsCommandsUnderPolicies() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let id = try await Self.envelope(client, owner)
            let read = try await client.get("/v1/envelopes/\(id)", key: owner.ownerKey)
            #expect(read.status == .ok)
            #expect(read.json["commands"] == Self.commands)
            #expect(read.json["capabilities"] == [:], "an envelope of commands only grants no 0.10 capability")

            let both = try await client.post(
                "/v1/envelopes", key: owner.ownerKey,
                json: [
                    "app_id": .string(owner.app.id), "name": "both", "capabilities": Client.mailCapabilities,
                    "commands": ["/crm/read": []], "max_ttl_seconds": 60,
                ])
            #expect(both.status == .created)
            #expect(both.json["capabilities"] == Client.mailCapabilities && both.json["commands"] == ["/crm/read": []])

            let refusals: [(JSONObject, String)] = [
                ([:], "capabilities"),
                (["commands": [:]], "commands"),
                (["commands": ["/Email/Send": []]], "commands./Email/Send"),
                (["commands": ["email/send": []]], "commands.email/send"),
                (["commands": ["/ucan/revoke": []]], "commands./ucan/revoke"),
                (["commands": ["/email/send": [["like", ".to"]]]], "commands./email/send[0]"),
                (["commands": ["/email/send": [["==", "to", 1]]]], "commands./email/send[0][1]"),
                (["commands": ["/email/send": ["and"]]], "commands./email/send[0]"),
                (["commands": ["/email/send": [:]]], "commands./email/send"),
                (["commands": [["/email/send"]]], "commands"),
            ]
            for (fields, field) in refusals {
                var body: JSONObject = ["app_id": .string(owner.app.id), "name": "bad", "max_ttl_seconds": 60]
                body.merge(fields) { $1 }
                let refused = try await client.post("/v1/envelopes", key: owner.ownerKey, json: .object(body))
                #expect(refused.status == .unprocessableContent, "\(fields)")
                #expect(refused.json["error"]?["field"]?.stringValue == field, "\(fields): \(refused.text)")
            }
            let listed = try await client.get("/v1/envelopes", key: owner.ownerKey)
            #expect(listed.json["envelopes"]?.arrayValue?.count == 2, "no refused envelope was written")
        }
    }

    @Test func aDelegationComesFromTheOrganizationsIssuerAndNarrowsTheGrant() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let envelope = try await Self.envelope(client, owner)
            let (agentKey, agentKeyID) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            let before = Int64(Date().timeIntervalSince1970)
            let reply = try await Self.delegate(
                client, agentKey, command: "/email/send",
                extra: [
                    "policy": [["==", ".priority", "low"]], "ttl_seconds": 120, "meta": ["ticket": "T-1"],
                ])
            let after = Int64(Date().timeIntervalSince1970)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(reply.headers[.cacheControl] == "no-store")
            let delegation = try Self.delegation(reply)
            #expect(reply.json["format"] == "ucan/1.0")
            #expect(reply.json["cid"]?.stringValue == delegation.cid.string)
            #expect(delegation.cid.string.hasPrefix("bafyrei"))
            #expect(reply.json["envelope_id"]?.stringValue == envelope)

            let issuers = try await MintingTests.trustedIssuers(client)
            #expect(
                issuers.contains(delegation.issuer) && reply.json["issuer"]?.stringValue == delegation.issuer.string)
            #expect(delegation.subject == delegation.issuer, "the issuer is the root authority")
            #expect(delegation.audience == Self.audience)
            #expect(delegation.command.path == "/email/send")
            #expect(
                delegation.policy.ipld == [["like", ".to", "*@example.com"], ["==", ".priority", "low"]],
                "the grant's statements, then the request's")
            #expect(delegation.nonce.count == 16)
            #expect((before + 120...after + 120).contains(try #require(delegation.expiration)))
            #expect(
                delegation.meta == [
                    "org": .string(owner.organization.id), "env": "live", "app": .string(owner.app.id),
                    "envelope": .string(envelope), "key": .string(agentKeyID), "ticket": "T-1",
                ])

            // The agent's invocation validates against the delegation, within its policy only.
            let validator = InvocationValidator(
                policy: InvocationPolicy(trustedSubjects: issuers))
            let now = Int64(Date().timeIntervalSince1970)
            let allowed = try Self.invocation(
                delegation, command: "/email/send", arguments: ["to": "ada@example.com", "priority": "low"])
            #expect(try validator.validate(allowed, proofs: [delegation.bytes], now: now).delegations == [delegation])
            for arguments: [String: IPLD] in [
                ["to": "ada@elsewhere.com", "priority": "low"], ["to": "ada@example.com", "priority": "high"],
            ] {
                let broken = try Self.invocation(delegation, command: "/email/send", arguments: arguments)
                #expect(throws: UCANError.self) { try validator.validate(broken, proofs: [delegation.bytes], now: now) }
            }

            let audit = try await client.get("/v1/audit?action=token.mint", key: owner.ownerKey)
            let record = try #require(audit.json["records"]?.arrayValue?.first)
            #expect(
                record["target"]?.stringValue == delegation.cid.string && record["key_id"]?.stringValue == agentKeyID)
            #expect(record["details"]?["format"] == "ucan/1.0" && record["details"]?["command"] == "/email/send")
            #expect(record["details"]?["policy"] == [["like", ".to", "*@example.com"], ["==", ".priority", "low"]])
        }
    }

    @Test func aCommandBelowAGrantIsCoveredByTheMostSpecificGrant() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            _ = try await Self.envelope(
                client, owner, commands: ["/crm": [["==", ".tenant", "a"]], "/crm/read": [["==", ".limit", 10]]])
            let (agentKey, _) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            let read = try Self.delegation(try await Self.delegate(client, agentKey, command: "/crm/read"))
            #expect(read.policy.ipld == [["==", ".limit", 10]])
            let write = try Self.delegation(try await Self.delegate(client, agentKey, command: "/crm/write/notes"))
            #expect(write.command.path == "/crm/write/notes" && write.policy.ipld == [["==", ".tenant", "a"]])
            let refused = try await Self.delegate(client, agentKey, command: "/crmx")
            #expect(refused.status == .forbidden && refused.json["error"]?["code"] == "command_not_in_envelope")
        }
    }

    @Test func refusalsNameTheirFieldAndAreAudited() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            _ = try await Self.envelope(client, owner, maxTTL: 60)
            let mailOnly = try await client.createEnvelope(owner.ownerKey, app: owner.app.id)
            let (agentKey, _) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            let cases: [(String, JSONObject, HTTPResponse.Status, String, String?)] = [
                ("/email/receive", [:], .forbidden, "command_not_in_envelope", "command"),
                ("/email/send", ["envelope_id": .string(mailOnly)], .forbidden, "command_not_in_envelope", "command"),
                ("/Email", [:], .unprocessableContent, "validation_failed", "command"),
                ("/email/send", ["ttl_seconds": 61], .unprocessableContent, "ttl_too_long", "ttl_seconds"),
                ("/email/send", ["policy": [["like"]]], .unprocessableContent, "validation_failed", "policy[0]"),
                ("/email/send", ["policy": "all"], .unprocessableContent, "validation_failed", "policy"),
                ("/email/send", ["meta": ["org": "org_other"]], .unprocessableContent, "validation_failed", "meta.org"),
                (
                    "/email/send", ["capabilities": Client.mailCapabilities], .unprocessableContent,
                    "validation_failed",
                    "capabilities"
                ),
                ("/email/send", ["facts": [:]], .unprocessableContent, "validation_failed", "facts"),
                ("/email/send", ["format": "ucan/2.0"], .unprocessableContent, "validation_failed", "format"),
                (
                    "/email/send", ["audience": "did:key:zNotAKey"], .unprocessableContent, "invalid_audience",
                    "audience"
                ),
            ]
            for (command, extra, status, code, field) in cases {
                let reply = try await Self.delegate(client, agentKey, command: command, extra: extra)
                #expect(reply.status == status, "\(command) \(extra): \(reply.text)")
                #expect(reply.json["error"]?["code"]?.stringValue == code, "\(command) \(extra)")
                #expect(reply.json["error"]?["field"]?.stringValue == field, "\(command) \(extra)")
            }
            let plain = try await client.authorize(agentKey, audience: Self.audience, extra: ["command": "/email/send"])
            #expect(plain.status == .unprocessableContent && plain.json["error"]?["field"] == "command")
            #expect(
                try await client.authorize(agentKey, audience: Self.audience).json["format"] == "ucan/0.10",
                "0.10 stays the default")
        }
        let denied = try await server.store.auditRecords(
            orgID: owner.organization.id, query: AuditQuery(action: "token.mint", outcome: .denied, limit: 100))
        #expect(
            Set(denied.compactMap(\.event.reason)).isSuperset(of: [
                "command_not_in_envelope", "ttl_too_long", "validation_failed", "invalid_audience",
            ]))
    }

    @Test func aDelegationIsRevokedByCIDOrWithItsEnvelopeThroughTheSignedFeed() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner
        try await server.run { client in
            let envelope = try await Self.envelope(client, owner)
            let (agentKey, _) = try await client.createKey(owner.ownerKey, app: owner.app.id, role: "agent")
            let first = try Self.delegation(try await Self.delegate(client, agentKey, command: "/crm/read"))

            let revoked = try await client.post("/v1/tokens/\(first.cid.string)/revoke", key: owner.ownerKey)
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.json["cid"]?.stringValue == first.cid.string && revoked.json["revoked_at"] != .null)
            let again = try await client.post("/v1/tokens/\(first.cid.string)/revoke", key: owner.ownerKey)
            #expect(again.status == .conflict)

            #expect(try await client.post("/v1/envelopes/\(envelope)/revoke", key: owner.ownerKey).status == .ok)
            let after = try await Self.delegate(client, agentKey, command: "/crm/read")
            #expect(after.status == .forbidden && after.json["error"]?["code"] == "no_active_envelope")

            let feed = try await client.get(MintingTests.feed(owner), key: nil)
            let entries = feed.json["revocations"]?.arrayValue ?? []
            #expect(entries.contains { $0["kind"] == "token" && $0["revoke"]?.stringValue == first.cid.string })
            #expect(entries.contains { $0["kind"] == "envelope" && $0["revoke"]?.stringValue == envelope })
            let token = try #require(entries.first { $0["kind"] == "token" })
            #expect(token["iss"]?.stringValue == first.issuer.string, "signed by the key that signed the delegation")
        }
    }
}
