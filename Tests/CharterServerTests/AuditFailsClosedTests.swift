import CharterCore
import Foundation
import GRDB
import HTTPTypes
import Testing
import UCAN

/// With the audit trail unwritable, nothing that would need a record happens: every state change and
/// every mint answers 5xx and leaves the database as it was.
@Suite struct AuditFailsClosedTests {
    /// Makes every insert into `audit_records` fail, as a full disk would, through a second connection.
    static func breakAuditTrail(_ path: String, _ broken: Bool) throws {
        let database = try DatabaseQueue(path: path)
        try database.write { db in
            if broken {
                try db.execute(
                    sql: """
                        CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit_records
                        BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END
                        """)
            } else {
                try db.execute(sql: "DROP TRIGGER audit_unwritable")
            }
        }
    }

    static func counts(_ path: String) throws -> [Int] {
        try DatabaseQueue(path: path).read { db in
            try ["apps", "api_keys", "envelopes", "minted_tokens", "revocations", "audit_records", "signing_keys"]
                .map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? -1 }
        }
    }

    @Test func everyChangeAndEveryMintFailsAndChangesNothing() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let app = server.owner.app.id
            let victim = try await client.createKey(owner, app: app)
            let envelope = try await client.post(
                "/v1/envelopes", key: owner,
                json: [
                    "app_id": .string(app), "name": "mail", "capabilities": ["mailto:*": ["email/send": [[:]]]],
                    "max_ttl_seconds": 600,
                ])
            #expect(envelope.status == .created)
            let envelopeID = try #require(envelope.json["id"]?.stringValue)
            let mint: JSONValue = [
                "audience": "did:key:z6MkpTYBshrFQiBoTeZfWt8V59oCZ9np6dQJSFgBhJti3nnV",
                "capabilities": ["mailto:a@example.com": ["email/send": [[:]]]],
            ]
            let minted = try await client.post("/v1/authorize", key: owner, json: mint)
            #expect(minted.status == .ok)
            let cid = try #require(minted.json["cid"]?.stringValue)

            try Self.breakAuditTrail(server.databasePath, true)
            let before = try Self.counts(server.databasePath)
            let attempts: [(String, JSONValue)] = [
                ("/v1/apps", ["name": "new", "environment": "live"]),
                ("/v1/keys", ["app_id": .string(app), "label": "new", "role": "member"]),
                ("/v1/keys/\(victim.id)/revoke", [:]),
                ("/v1/keys/\(victim.id)/duplicate", [:]),
                ("/v1/envelopes/\(envelopeID)/revoke", [:]),
                ("/v1/tokens/\(cid)/revoke", [:]),
                ("/v1/signing-keys/rotate", ["environment": "live"]),
                ("/v1/authorize", mint),
            ]
            for (path, body) in attempts {
                let reply = try await client.post(path, key: owner, json: body)
                #expect(reply.status.code >= 500, "\(path) answered \(reply.status)")
                #expect(reply.json["token"] == nil && reply.json["key"] == nil, "\(path) handed something out")
            }
            #expect(try Self.counts(server.databasePath) == before, "nothing changed")
            #expect(try await client.get("/v1/me", key: victim.key).status == .ok, "the key is not revoked")

            try Self.breakAuditTrail(server.databasePath, false)
            #expect(try await client.post("/v1/authorize", key: owner, json: mint).status == .ok, "works again")
        }
        #expect(try await AuditService(store: server.store).verifyAll().breaks.isEmpty)
    }
}
