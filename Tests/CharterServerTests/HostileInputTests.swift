import CharterCore
import Foundation
import HTTPTypes
import Testing
import UCAN

/// Inputs from issue 17 that were well-formed enough to be accepted, and each disguised or widened something:
/// a weak key as an audience, an empty caveat list, lower-case RFC 3339 letters, bidi controls in names.
@Suite struct HostileInputTests {
    /// `did:key` of the identity point `0100…00`: small order, so no private key stands behind it.
    static let weakAudience = "did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj"

    static func expectRefused(_ reply: Client.Reply, code: String, field: String, _ name: String) {
        #expect(reply.status == .unprocessableContent, "\(name): \(reply.status) \(reply.text)")
        #expect(reply.code == code, "\(name)")
        #expect(reply.json["error"]?["field"]?.stringValue == field, "\(name): \(reply.text)")
    }

    @Test func aSmallOrderPointIsRefusedAsAnAudience() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            _ = try await client.createEnvelope(owner, app: server.owner.app.id)
            let reply = try await client.post(
                "/v1/authorize", key: owner,
                json: ["audience": .string(Self.weakAudience), "capabilities": Client.mailCapabilities])
            Self.expectRefused(reply, code: "invalid_audience", field: "audience", "weak audience")
            #expect(reply.json["error"]?["message"]?.stringValue?.contains("full-order") == true)
            let agent = DID(publicKey: Ed25519.SigningKey().publicKey)
            #expect(try await client.authorize(owner, audience: agent).status == .ok, "a real key still mints")
        }
        let minted = try await server.store.auditRecords(
            orgID: server.owner.organization.id, query: AuditQuery(action: "token.mint", limit: 10))
        #expect(minted.contains { $0.event.outcome == .denied && $0.event.reason == "invalid_audience" })
    }

    @Test func anEmptyArrayInACaveatIsRefusedNamingItsPath() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        let path = #"capabilities["mailto:*"]["email/send"][0].to"#
        try await server.run { client in
            let empty: JSONValue = ["mailto:*": ["email/send": [["to": []]]]]
            let envelope = try await client.post(
                "/v1/envelopes", key: owner,
                json: ["app_id": .string(app), "name": "empty to", "capabilities": empty, "max_ttl_seconds": 600])
            Self.expectRefused(envelope, code: "validation_failed", field: path, "envelope")

            _ = try await client.createEnvelope(
                owner, app: app,
                capabilities: ["mailto:*": ["email/send": [["to": ["ops@example.com", "dev@example.com"]]]]])
            let agent = DID(publicKey: Ed25519.SigningKey().publicKey)
            let authorize = try await client.authorize(owner, audience: agent, capabilities: empty)
            Self.expectRefused(authorize, code: "validation_failed", field: path, "authorize")
            let narrower = try await client.authorize(
                owner, audience: agent, capabilities: ["mailto:*": ["email/send": [["to": ["ops@example.com"]]]]])
            #expect(narrower.status == .ok, "a list with members still attenuates")
        }
    }

    @Test func lowerCaseTAndZAreRefusedNamingTheField() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            for (query, field) in [
                ("since=2026-01-01t00:00:00Z", "since"), ("since=2026-01-01T00:00:00z", "since"),
                ("until=2026-01-01t00:00:00z", "until"),
            ] {
                let reply = try await client.get("/v1/audit?\(query)", key: owner)
                Self.expectRefused(reply, code: "validation_failed", field: field, query)
            }
            #expect(try await client.get("/v1/audit?since=2026-01-01T00:00:00Z", key: owner).status == .ok)

            for expiry in ["2099-01-01t00:00:00Z", "2099-01-01T00:00:00z", "2099-01-01T00:00:00.5+01:00x"] {
                let reply = try await client.post(
                    "/v1/keys", key: owner,
                    json: [
                        "app_id": .string(app), "label": "lower", "role": "member", "expires_at": .string(expiry),
                    ])
                Self.expectRefused(reply, code: "validation_failed", field: "expires_at", expiry)
            }
            let upper = try await client.post(
                "/v1/keys", key: owner,
                json: [
                    "app_id": .string(app), "label": "upper", "role": "member", "expires_at": "2099-01-01T00:00:00Z",
                ])
            #expect(upper.status == .created)
        }
    }

    /// `invoice` with its last letters reversed by U+202E, and the other format controls that hide or reorder.
    static let disguised = [
        "admin\u{202E}eciovni", "ops\u{200B}", "\u{FEFF}owner", "a\u{2066}b\u{2069}", "x\u{200D}y", "a\u{2060}b",
        "\u{061C}name",
    ]

    @Test func namesWithFormatControlsAreRefused() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            for name in Self.disguised {
                let newApp = try await client.post(
                    "/v1/apps", key: owner, json: ["name": .string(name), "environment": "live"])
                Self.expectRefused(newApp, code: "validation_failed", field: "name", "app \(name.debugDescription)")

                let key = try await client.post(
                    "/v1/keys", key: owner, json: ["app_id": .string(app), "label": .string(name), "role": "member"])
                Self.expectRefused(key, code: "validation_failed", field: "label", "key \(name.debugDescription)")

                let relabel = try await client.call(
                    .patch, "/v1/keys/\(server.owner.keyID)", key: owner, json: ["label": .string(name)])
                Self.expectRefused(relabel, code: "validation_failed", field: "label", "edit \(name.debugDescription)")

                let envelope = try await client.post(
                    "/v1/envelopes", key: owner,
                    json: [
                        "app_id": .string(app), "name": .string(name), "capabilities": Client.mailCapabilities,
                        "max_ttl_seconds": 600,
                    ])
                Self.expectRefused(
                    envelope, code: "validation_failed", field: "name", "envelope \(name.debugDescription)")
            }
            let plain = try await client.post(
                "/v1/apps", key: owner, json: ["name": "Ünïcödé app ✓", "environment": "live"])
            #expect(plain.status == .created, "visible non-ASCII names still pass")
        }
        for name in Self.disguised {
            let error = await #expect(throws: CharterError.self) {
                try await Setup(store: server.store, clock: .system).createOrganization(name: name)
            }
            #expect(error?.field == "name", "organization \(name.debugDescription)")
        }
    }
}
