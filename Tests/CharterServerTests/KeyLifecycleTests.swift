import CharterCore
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Logging
import Testing
import UCAN

/// Issuing, using, narrowing, revoking and duplicating keys against the live server.
@Suite struct KeyLifecycleTests {
    @Test func aKeyIsShownOnceAndNeverStoredLoggedOrReturnedAgain() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        let plaintext = try await server.run { client in
            let created = try await client.post(
                "/v1/keys", key: owner,
                json: [
                    "app_id": .string(app), "label": "ci-integration", "role": "agent_manager", "expires_in_days": 30,
                ])
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            let key = try #require(created.json["key"]?.stringValue)
            #expect(key.hasPrefix("chr_live_"))
            let record = try #require(created.json["api_key"])
            #expect(record["label"] == "ci-integration")
            #expect(record["role"] == "agent_manager")
            #expect(record["status"] == "active")
            #expect(record["created_by"]?.stringValue == server.owner.keyID)
            #expect(record["prefix"]?.stringValue?.hasPrefix(String(key.prefix(13))) == true)
            #expect(record["prefix"]?.stringValue?.contains("…") == true)
            let id = try #require(record["id"]?.stringValue)

            let me = try await client.get("/v1/me", key: key)
            #expect(me.status == .ok)
            #expect(me.json["api_key"]?["id"]?.stringValue == id)
            #expect(me.json["organization"]?["id"]?.stringValue == server.owner.organization.id)
            for reply in [
                try await client.get("/v1/keys/\(id)", key: owner), try await client.get("/v1/keys", key: owner), me,
                try await client.get("/v1/audit", key: owner),
            ] {
                #expect(!reply.text.contains(key), "the plaintext is never returned again")
            }
            return key
        }
        #expect(!plaintext.isEmpty)
        for file in ["charter.db", "charter.db-wal"] {
            let path = server.directory.appendingPathComponent(file).path
            if let data = FileManager.default.contents(atPath: path) {
                #expect(data.range(of: Data(plaintext.utf8)) == nil, "\(file) holds the plaintext")
                #expect(data.range(of: Data(server.owner.ownerKey.utf8)) == nil, "\(file) holds the owner key")
            }
        }
        #expect(!server.logs.all.contains(plaintext))
        #expect(!server.logs.all.contains(server.owner.ownerKey))
        #expect(!server.logs.all.isEmpty, "the capture did see the server's logs")
    }

    @Test func revocationAndExpiryTakeEffectOnTheNextRequest() async throws {
        let clock = ManualClock()
        let server = try await TestServer(clock: clock.clock)
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let (key, id) = try await client.createKey(owner, app: app, role: "auditor")
            #expect(try await client.get("/v1/me", key: key).status == .ok, "warms the cache")
            let revoked = try await client.post("/v1/keys/\(id)/revoke", key: owner)
            #expect(revoked.status == .ok)
            #expect(revoked.json["status"] == "revoked")
            #expect(revoked.json["revoked_by"]?.stringValue == server.owner.keyID)
            let refused = try await client.get("/v1/me", key: key)
            #expect(refused.status == .unauthorized)
            #expect(refused.code == "api_key_revoked")
            #expect(try await client.post("/v1/keys/\(id)/revoke", key: owner).status == .conflict)

            let soon = clock.now.addingTimeInterval(60).formatted(
                Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            let (short, _) = try await client.createKey(
                owner, app: app, role: "auditor", extra: ["expires_at": .string(soon)])
            #expect(try await client.get("/v1/me", key: short).status == .ok)
            clock.advance(59)
            #expect(try await client.get("/v1/me", key: short).status == .ok, "a second before it expires")
            clock.advance(1)
            let expired = try await client.get("/v1/me", key: short)
            #expect(expired.status == .unauthorized)
            #expect(expired.code == "api_key_expired")
        }
    }

    @Test func usageIsCountedExactlyWithoutAWritePerCall() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let (key, id) = try await client.createKey(owner, app: app, role: "member")
            let before = try await server.store.base.key(id: id, orgID: server.owner.organization.id)
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<50 { group.addTask { try await client.get("/v1/me", key: key).status } }
                for try await status in group { #expect(status == .ok) }
            }
            let stored = try await server.store.base.key(id: id, orgID: server.owner.organization.id)
            #expect(stored?.usageCount == before?.usageCount, "nothing was written per call")
            let shown = try await client.get("/v1/keys/\(id)", key: owner)
            #expect(shown.json["usage_count"]?.integerValue == 50)
            #expect(shown.json["last_used_at"] != .null)
        }
        let flushed = try await server.store.base.key(
            id: (try await server.store.base.keys(
                orgID: server.owner.organization.id, filter: KeyFilter(now: Date()))).last!.id,
            orgID: server.owner.organization.id)
        #expect(flushed?.usageCount == 50, "the batch flush stored the exact count")
        #expect(flushed?.lastUsedAt != nil)
    }

    @Test func keysAreNarrowedButNeverWidened() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let (_, id) = try await client.createKey(
                owner, app: app, role: "agent_manager",
                extra: ["ip_allowlist": ["10.0.0.0/8"], "allowed_endpoints": ["/v1/*"], "rate_limit_per_minute": 100])
            let narrowed = try await client.call(
                .patch, "/v1/keys/\(id)", key: owner,
                json: [
                    "label": "renamed", "permissions": ["keys.read", "apps.read"], "ip_allowlist": ["10.1.0.0/16"],
                    "allowed_endpoints": ["/v1/keys*"], "rate_limit_per_minute": 10,
                ])
            #expect(narrowed.status == .ok)
            #expect(narrowed.json["label"] == "renamed")
            #expect(narrowed.json["permissions"] == ["apps.read", "keys.read"])
            #expect(narrowed.json["role"] == .null)
            #expect(narrowed.json["ip_allowlist"] == ["10.1.0.0/16"])
            for widening: JSONValue in [
                ["permissions": ["keys.read", "keys.write"]], ["role": "owner"], ["ip_allowlist": ["10.0.0.0/8"]],
                ["ip_allowlist": []], ["allowed_endpoints": ["/v1/*"]], ["rate_limit_per_minute": 11],
            ] {
                let refused = try await client.call(.patch, "/v1/keys/\(id)", key: owner, json: widening)
                #expect(refused.status == .unprocessableContent, "\(widening)")
                #expect(refused.code == "validation_failed")
            }
            let unchanged = try await client.get("/v1/keys/\(id)", key: owner)
            #expect(unchanged.json["permissions"] == ["apps.read", "keys.read"])
        }
    }

    @Test func duplicateIssuesANewKeyWithTheSameSettings() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let (original, id) = try await client.createKey(
                owner, app: app, label: "worker", role: "auditor",
                extra: ["expires_in_days": 30, "ip_allowlist": ["127.0.0.1/32", "2001:db8::/32"]])
            let copy = try await client.post("/v1/keys/\(id)/duplicate", key: owner)
            #expect(copy.status == .created)
            let key = try #require(copy.json["key"]?.stringValue)
            #expect(key != original)
            let record = try #require(copy.json["api_key"])
            #expect(record["id"]?.stringValue != id)
            #expect(record["label"] == "worker (copy)")
            #expect(record["role"] == "auditor")
            #expect(record["ip_allowlist"] == ["127.0.0.1/32", "2001:db8::/32"])
            #expect(record["expires_at"] != .null)
            #expect(try await client.get("/v1/me", key: key).status == .ok)
            #expect(try await client.post("/v1/keys/\(id)/duplicate", key: owner).status == .conflict, "label taken")
        }
    }

    @Test func listingFiltersByAppStatusAndExpiry() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            let other = try await client.post("/v1/apps", key: owner, json: ["name": "billing", "environment": "test"])
            #expect(other.status == .created)
            let otherApp = try #require(other.json["id"]?.stringValue)
            let (testKey, _) = try await client.createKey(
                owner, app: otherApp, role: "member", extra: ["expires_in_days": 3])
            #expect(testKey.hasPrefix("chr_test_"), "keys carry their app's environment")
            let (_, revokedID) = try await client.createKey(owner, app: server.owner.app.id, role: "member")
            _ = try await client.post("/v1/keys/\(revokedID)/revoke", key: owner)

            func ids(_ query: String) async throws -> Set<String> {
                let reply = try await client.get("/v1/keys\(query)", key: owner)
                #expect(reply.status == .ok, "\(query)")
                return Set((reply.json["keys"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
            }
            #expect(try await ids("?app_id=\(otherApp)").count == 1)
            #expect(try await ids("?status=revoked") == [revokedID])
            #expect(try await ids("?status=active").count == 2)
            #expect(try await ids("?expiring_within_days=7").count == 1)
            #expect(try await ids("?expiring_within_days=1").isEmpty)
            #expect(try await client.get("/v1/keys?status=bogus", key: owner).status == .unprocessableContent)
        }
    }
}

extension KeyLifecycleTests {
    @Test func meStaysExactAcrossUsageFlushes() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            let (key, _) = try await client.createKey(owner, app: server.owner.app.id, role: "member")
            for round in 1...3 {
                for _ in 0..<4 { #expect(try await client.get("/v1/me", key: key).status == .ok) }
                let me = try await client.get("/v1/me", key: key)
                #expect(me.json["api_key"]?["usage_count"]?.integerValue == Int64(round * 5))
                await BackgroundFlusher(controlPlane: server.controlPlane, logger: .init(label: "t")).flushOnce()
            }
        }
    }

    @Test func meIsTheKeysOwnRecordAndFollowsEdits() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            let (key, id) = try await client.createKey(owner, app: server.owner.app.id, role: "member")
            for _ in 0..<3 { #expect(try await client.get("/v1/me", key: key).status == .ok) }
            var mine = try #require(try await client.get("/v1/me", key: key).json["api_key"]?.objectValue)
            var listed = try #require(try await client.get("/v1/keys/\(id)", key: owner).json.objectValue)
            #expect(mine["usage_count"] == 4)
            #expect(listed["usage_count"] == 4, "the owner's read is not counted against this key")
            #expect(mine == listed)

            let edited = try await client.call(.patch, "/v1/keys/\(id)", key: owner, json: ["label": "renamed"])
            #expect(edited.status == .ok)
            mine = try #require(try await client.get("/v1/me", key: key).json["api_key"]?.objectValue)
            #expect(mine["label"] == "renamed", "an edit shows on the next request")
            #expect(mine["usage_count"] == 5)
            listed = try #require(try await client.get("/v1/keys/\(id)", key: owner).json.objectValue)
            #expect(mine == listed)
        }
    }

    @Test func usageThatCannotBeStoredIsKeptForTheNextFlush() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let flusher = BackgroundFlusher(controlPlane: server.controlPlane, logger: .init(label: "t"))
        @Sendable func stored(_ id: String) async throws -> Int64? {
            try await server.store.base.key(id: id, orgID: server.owner.organization.id)?.usageCount
        }
        try await server.run { client in
            let (key, id) = try await client.createKey(owner, app: server.owner.app.id, role: "member")
            for _ in 0..<6 { #expect(try await client.get("/v1/me", key: key).status == .ok) }
            let database = try DatabaseQueue(path: server.databasePath)
            try await database.write { db in
                try db.execute(
                    sql: """
                        CREATE TRIGGER usage_unwritable BEFORE UPDATE OF usage_count ON api_keys
                        BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END
                        """)
            }
            await flusher.flushOnce()
            #expect(try await stored(id) == 0, "the failed batch wrote nothing")
            let me = try await client.get("/v1/me", key: key)
            #expect(me.json["api_key"]?["usage_count"] == 7, "nothing counted was lost")

            try await database.write { try $0.execute(sql: "DROP TRIGGER usage_unwritable") }
            await flusher.flushOnce()
            #expect(try await stored(id) == 7)
            #expect(try await client.get("/v1/me", key: key).json["api_key"]?["usage_count"] == 8)
        }
    }
}
