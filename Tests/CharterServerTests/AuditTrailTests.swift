import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import UCAN

/// Every state change and every denial lands in the hash-chained audit trail.
@Suite struct AuditTrailTests {
    @Test func changesAndDenialsAreRecordedWithKeyIPAndRequestID() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let ownerID = server.owner.keyID
        let app = server.owner.app.id
        try await server.run { client in
            let requestID: HTTPFields = [HTTPField.Name("X-Request-ID")!: "create-1"]
            let created = try await client.post(
                "/v1/keys", key: owner, json: ["app_id": .string(app), "label": "audited", "role": "member"],
                headers: requestID)
            let keyID = try #require(created.json["api_key"]?["id"]?.stringValue)
            let member = try #require(created.json["key"]?.stringValue)
            _ = try await client.get("/v1/keys", key: member)  // denied: member lacks keys.read
            _ = try await client.post("/v1/keys/\(keyID)/revoke", key: owner)
            _ = try await client.get("/v1/me", key: member)  // denied: revoked
            _ = try await client.get("/v1/me", key: APIKeySecret.generate(for: .live).plaintext)  // unknown key
        }
        let records = try await server.store.auditRecords(
            orgID: server.owner.organization.id, query: AuditQuery(limit: 100))
        let create = try #require(records.first { $0.event.action == "key.create" && $0.event.requestID == "create-1" })
        #expect(create.event.keyID == ownerID)
        #expect(create.event.ip == "127.0.0.1")
        #expect(create.event.outcome == .success)
        let denials = records.filter { $0.event.action == "request.denied" }
        #expect(Set(denials.compactMap(\.event.reason)) == ["permission_denied", "api_key_revoked"])
        #expect(denials.allSatisfy { $0.event.keyID != nil && $0.event.ip == "127.0.0.1" && $0.event.requestID != nil })
        #expect(records.contains { $0.event.action == "key.revoke" && $0.event.keyID == ownerID })
        let unattributed = try await server.store.auditChain(orgID: nil, after: 0, limit: 100)
        #expect(unattributed.contains { $0.event.reason == "api_key_invalid" && $0.event.keyID == nil })
        let verification = try await AuditService(store: server.store).verifyAll()
        #expect(verification.breaks.isEmpty)
        #expect(verification.checked >= records.count)
    }

    @Test func theAPIFiltersPagesAndExports() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            for index in 0..<5 { _ = try await client.createKey(owner, app: app, label: "k\(index)", role: "member") }
            let first = try await client.get("/v1/audit?action=key.create&limit=3", key: owner)
            #expect(first.status == .ok)
            let page1 = try #require(first.json["records"]?.arrayValue)
            #expect(page1.count == 3)
            let seqs = page1.compactMap { $0["seq"]?.integerValue }
            #expect(seqs == seqs.sorted(by: >), "newest first")
            let cursor = try #require(first.json["next_cursor"]?.stringValue)
            let second = try await client.get("/v1/audit?action=key.create&limit=3&cursor=\(cursor)", key: owner)
            let page2 = try #require(second.json["records"]?.arrayValue)
            #expect(page2.count == 3, "5 created here + the owner key from init")
            #expect(second.json["next_cursor"] != .null || page2.count < 3)
            let firstSeqs = Set(page1.compactMap { $0["seq"]?.integerValue })
            #expect(firstSeqs.isDisjoint(with: page2.compactMap { $0["seq"]?.integerValue }))
            let byKey = try await client.get("/v1/audit?key_id=\(server.owner.keyID)&outcome=success", key: owner)
            #expect(
                byKey.json["records"]?.arrayValue?.allSatisfy { $0["key_id"]?.stringValue == server.owner.keyID }
                    == true)
            let future = try await client.get("/v1/audit?since=2999-01-01T00:00:00Z", key: owner)
            #expect(future.json["records"]?.arrayValue?.isEmpty == true)

            let export = try await client.get("/v1/audit/export", key: owner)
            #expect(export.status == .ok)
            #expect(export.headers[.contentType] == "application/x-ndjson")
            let lines = export.text.split(separator: "\n")
            #expect(lines.count == 8, "3 records from init and 5 key creations")
            // Offline check of the export, from the JSON alone: every hash is SHA-256 of the previous hash
            // and the record's canonical JSON, and each record links to the one before it.
            var previous: String?
            for line in lines.reversed() {
                guard case .object(var fields) = try JSONParser.parse(Array(line.utf8)) else {
                    Issue.record("not an object")
                    continue
                }
                let hash = try #require(fields.removeValue(forKey: "hash")?.stringValue)
                let previousHash = try #require(fields.removeValue(forKey: "previous_hash")?.stringValue)
                fields.removeValue(forKey: "time")
                #expect(Self.hex(SHA256.hash(Self.bytes(previousHash) + JSONValue.object(fields).serialized())) == hash)
                if let previous { #expect(previousHash == previous) }
                previous = hash
            }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
