import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import UCAN

/// Bad bodies get a 4xx with the JSON error naming the field, never a 500, and write nothing.
@Suite struct ValidationTests {
    static let cases: [(name: String, body: String, field: String?)] = [
        ("not JSON", "{", "body"),
        ("an array", "[]", "body"),
        ("label a number", #"{"app_id":"APP","label":5,"role":"member"}"#, "label"),
        ("label missing", #"{"app_id":"APP","role":"member"}"#, "label"),
        ("label blank", #"{"app_id":"APP","label":"   ","role":"member"}"#, "label"),
        (
            "label over 100 characters as sent, even if trimming would shorten it",
            #"{"app_id":"APP","label":" "# + String(repeating: "x", count: 100) + #"","role":"member"}"#, "label"
        ),
        ("label with a control character", #"{"app_id":"APP","label":"a\u0085b\u0007","role":"member"}"#, "label"),
        ("unknown role", #"{"app_id":"APP","label":"x","role":"superuser"}"#, "role"),
        ("unknown permission", #"{"app_id":"APP","label":"x","permissions":["keys.delete"]}"#, "permissions"),
        ("no role, no permissions", #"{"app_id":"APP","label":"x"}"#, "permissions"),
        ("empty permissions", #"{"app_id":"APP","label":"x","permissions":[]}"#, "permissions"),
        ("role and permissions", #"{"app_id":"APP","label":"x","role":"member","permissions":["org.read"]}"#, "role"),
        ("permissions not strings", #"{"app_id":"APP","label":"x","permissions":[1]}"#, "permissions"),
        ("bad CIDR", #"{"app_id":"APP","label":"x","role":"member","ip_allowlist":["10.0.0.0/33"]}"#, "ip_allowlist"),
        ("host bits", #"{"app_id":"APP","label":"x","role":"member","ip_allowlist":["10.1.2.3/8"]}"#, "ip_allowlist"),
        (
            "not an address", #"{"app_id":"APP","label":"x","role":"member","ip_allowlist":["example.com"]}"#,
            "ip_allowlist"
        ),
        (
            "expiry in the past", #"{"app_id":"APP","label":"x","role":"member","expires_at":"2001-01-01T00:00:00Z"}"#,
            "expires_at"
        ),
        ("expiry not a time", #"{"app_id":"APP","label":"x","role":"member","expires_at":"tomorrow"}"#, "expires_at"),
        (
            "both expiries",
            #"{"app_id":"APP","label":"x","role":"member","expires_in_days":1,"expires_at":"2099-01-01T00:00:00Z"}"#,
            "expires_at"
        ),
        ("expiry days zero", #"{"app_id":"APP","label":"x","role":"member","expires_in_days":0}"#, "expires_in_days"),
        (
            "expiry days a string", #"{"app_id":"APP","label":"x","role":"member","expires_in_days":"5"}"#,
            "expires_in_days"
        ),
        (
            "endpoint not a path", #"{"app_id":"APP","label":"x","role":"member","allowed_endpoints":["v1/me"]}"#,
            "allowed_endpoints"
        ),
        (
            "rate limit zero", #"{"app_id":"APP","label":"x","role":"member","rate_limit_per_minute":0}"#,
            "rate_limit_per_minute"
        ),
        (
            "rate limit huge", #"{"app_id":"APP","label":"x","role":"member","rate_limit_per_minute":99999999999}"#,
            "rate_limit_per_minute"
        ),
        (
            "unknown field", #"{"app_id":"APP","label":"x","role":"member","expire_at":"2099-01-01T00:00:00Z"}"#,
            "expire_at"
        ),
        ("duplicate JSON key", #"{"app_id":"APP","label":"x","label":"y","role":"member"}"#, "body"),
    ]

    @Test func badKeyBodiesAreRefusedWithTheField() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let before = try await client.get("/v1/keys", key: owner).json["keys"]?.arrayValue?.count
            for item in Self.cases {
                let body = item.body.replacingOccurrences(of: "APP", with: app)
                let reply = try await client.call(.post, "/v1/keys", key: owner, body: body)
                #expect(reply.status == .unprocessableContent, "\(item.name): \(reply.status) \(reply.text)")
                #expect(reply.code == "validation_failed", "\(item.name)")
                #expect(reply.json["error"]?["field"]?.stringValue == item.field, "\(item.name)")
                #expect(reply.json["error"]?["request_id"]?.stringValue != nil)
            }
            let after = try await client.get("/v1/keys", key: owner).json["keys"]?.arrayValue?.count
            #expect(before == after, "nothing was written")
        }
    }

    @Test func oversizedBodiesAndBadAppsAreRefused() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            let huge = #"{"name":""# + String(repeating: "a", count: 200_000) + #"","environment":"live"}"#
            let big = try await client.call(.post, "/v1/apps", key: owner, body: huge)
            #expect(big.status == .contentTooLarge)
            #expect(big.code == "payload_too_large")
            for body in [
                #"{"name":"x","environment":"prod"}"#, #"{"name":"","environment":"live"}"#, #"{"environment":"live"}"#,
            ] {
                #expect(
                    try await client.call(.post, "/v1/apps", key: owner, body: body).status == .unprocessableContent)
            }
            #expect(
                try await client.post("/v1/apps", key: owner, json: ["name": "dup", "environment": "live"]).status
                    == .created)
            let duplicate = try await client.post("/v1/apps", key: owner, json: ["name": "dup", "environment": "live"])
            #expect(duplicate.status == .conflict)
            #expect(try await client.get("/v1/audit?limit=0", key: owner).status == .unprocessableContent)
            #expect(try await client.get("/v1/audit?cursor=abc", key: owner).status == .unprocessableContent)
            #expect(try await client.get("/v1/audit?outcome=maybe", key: owner).status == .unprocessableContent)
        }
    }
}
