import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import UCAN

/// Attacks on authentication, each shown to fail.
@Suite struct AuthenticationTests {
    @Test func malformedKeysAreRefusedBeforeAnyLookup() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let key = server.owner.ownerKey
        try await server.run { client in
            let lookups = server.store.secretHashLookups
            for bad in [
                "", "chr_live_", "sk_live_abc", String(key.dropLast()), key + "x", key.uppercased(),
                "chr_prod_" + key.dropFirst(9),
            ] {
                let reply = try await client.get("/v1/me", key: bad.isEmpty ? nil : bad)
                #expect(reply.status == .unauthorized)
                #expect(reply.code == (bad.isEmpty ? "api_key_missing" : "api_key_malformed"), "\(bad.prefix(12))")
            }
            // Every single-character change makes the key malformed.
            let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
            var characters = Array(key)
            for index in characters.indices {
                let original = characters[index]
                characters[index] = alphabet.first { $0 != original }!
                defer { characters[index] = original }
                #expect(throws: CharterError.self, "position \(index)") {
                    try APIKeySecret.environment(of: String(characters))
                }
            }
            // One character of the secret part changed (never to itself).
            let position = key.index(key.endIndex, offsetBy: -8)
            let changed = key.replacingCharacters(
                in: position...position, with: key[position] == "A" ? "B" : "A")
            #expect(changed != key && changed.count == key.count)
            #expect(try await client.get("/v1/me", key: changed).code == "api_key_malformed")
            #expect(server.store.secretHashLookups == lookups, "no database lookup for a malformed key")
            let unknown = APIKeySecret.generate(for: .live).plaintext
            #expect(try await client.get("/v1/me", key: unknown).code == "api_key_invalid")
            #expect(server.store.secretHashLookups == lookups + 1)
        }
    }

    @Test func anotherOrganizationsThingsAreIndistinguishableFromMissingOnes() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let other = try await server.secondOrganization()
        let owner = server.owner.ownerKey
        try await server.run { client in
            let requestID: HTTPFields = [HTTPField.Name("X-Request-ID")!: "same-request-id"]
            for (foreign, missing) in [
                ("/v1/keys/\(other.keyID)", "/v1/keys/key_doesnotexist0000000"),
                ("/v1/apps/\(other.app.id)", "/v1/apps/app_doesnotexist0000000"),
            ] {
                let a = try await client.get(foreign, key: owner, headers: requestID)
                let b = try await client.get(missing, key: owner, headers: requestID)
                #expect(a.status == .notFound)
                #expect(a.bytes == b.bytes, "byte-identical bodies")
                #expect(a.headers[.contentType] == b.headers[.contentType])
            }
            for path in ["/v1/keys/\(other.keyID)/revoke", "/v1/keys/\(other.keyID)/duplicate"] {
                #expect(try await client.post(path, key: owner).status == .notFound)
            }
            #expect(
                try await client.call(.patch, "/v1/keys/\(other.keyID)", key: owner, json: ["label": "x"]).status
                    == .notFound)
            let create = try await client.post(
                "/v1/keys", key: owner, json: ["app_id": .string(other.app.id), "label": "x", "role": "member"])
            #expect(create.status == .notFound)
            let listed = try await client.get("/v1/keys", key: owner)
            #expect(!listed.text.contains(other.keyID))
            let audit = try await client.get("/v1/audit?limit=500", key: owner)
            #expect(!audit.text.contains(other.organization.id))
            #expect(
                try await client.get("/v1/me", key: other.ownerKey).status == .ok,
                "the other org's key works for itself")
        }
    }

    @Test func ipAllowlistsTakeV4AndV6NetworksAndComeFirst() async throws {
        let server = try await TestServer(trustedProxies: [try CIDR("127.0.0.1/32")])
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        @Sendable func from(_ address: String) -> HTTPFields { [HTTPField.Name("X-Forwarded-For")!: address] }
        try await server.run { client in
            let (wide, _) = try await client.createKey(
                owner, app: app, role: "member", extra: ["ip_allowlist": ["10.0.0.0/8"]])
            let (single, _) = try await client.createKey(
                owner, app: app, role: "member", extra: ["ip_allowlist": ["203.0.113.7/32"]])
            let (six, sixID) = try await client.createKey(
                owner, app: app, role: "member", extra: ["ip_allowlist": ["2001:db8::/32"]])
            #expect(try await client.get("/v1/me", key: wide, headers: from("10.200.3.4")).status == .ok)
            #expect(try await client.get("/v1/me", key: wide, headers: from("11.0.0.1")).code == "ip_not_allowed")
            #expect(try await client.get("/v1/me", key: single, headers: from("203.0.113.7")).status == .ok)
            #expect(try await client.get("/v1/me", key: single, headers: from("203.0.113.8")).code == "ip_not_allowed")
            #expect(try await client.get("/v1/me", key: six, headers: from("2001:db8:ffff::1")).status == .ok)
            #expect(try await client.get("/v1/me", key: six, headers: from("2001:db9::1")).code == "ip_not_allowed")
            #expect(try await client.get("/v1/me", key: six, headers: from("10.0.0.1")).code == "ip_not_allowed")
            // The allowlist is checked before revocation: a wrong address learns nothing more.
            _ = try await client.post("/v1/keys/\(sixID)/revoke", key: owner)
            #expect(try await client.get("/v1/me", key: six, headers: from("10.0.0.1")).code == "ip_not_allowed")
            #expect(try await client.get("/v1/me", key: six, headers: from("2001:db8::1")).code == "api_key_revoked")
        }
    }

    @Test func forwardedForIsIgnoredFromUntrustedPeers() async throws {
        let server = try await TestServer(trustedProxies: [])
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            let (key, _) = try await client.createKey(
                owner, app: server.owner.app.id, role: "member", extra: ["ip_allowlist": ["10.0.0.0/8"]])
            let spoofed = try await client.get(
                "/v1/me", key: key, headers: [HTTPField.Name("X-Forwarded-For")!: "10.1.1.1"])
            #expect(spoofed.code == "ip_not_allowed", "the loopback peer is not a trusted proxy")
            let (loopback, _) = try await client.createKey(
                owner, app: server.owner.app.id, role: "member", extra: ["ip_allowlist": ["127.0.0.0/8"]])
            #expect(try await client.get("/v1/me", key: loopback).status == .ok)
        }
    }

    @Test func rateLimitsAnswer429WithRetryAfterAndEndpointsAreRestricted() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        try await server.run { client in
            let (key, _) = try await client.createKey(
                owner, app: server.owner.app.id, role: "auditor",
                extra: ["rate_limit_per_minute": 3, "allowed_endpoints": ["/v1/me", "/v1/apps*"]])
            for _ in 0..<3 { #expect(try await client.get("/v1/me", key: key).status == .ok) }
            let limited = try await client.get("/v1/me", key: key)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.code == "rate_limited")
            #expect(Int(limited.headers[.retryAfter] ?? "") ?? 0 >= 1)

            let (scoped, _) = try await client.createKey(
                owner, app: server.owner.app.id, role: "auditor", extra: ["allowed_endpoints": ["/v1/me", "/v1/apps*"]])
            #expect(try await client.get("/v1/apps", key: scoped).status == .ok)
            #expect(try await client.get("/v1/keys", key: scoped).code == "permission_denied")
        }
    }

    @Test func errorsHaveTheJSONShapeAndEchoTheRequestID() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let reply = try await client.get("/v1/me", key: nil, headers: [HTTPField.Name("X-Request-ID")!: "abc-123"])
            #expect(reply.status == .unauthorized)
            #expect(reply.headers[.contentType] == "application/json")
            #expect(reply.json["error"]?["code"] == "api_key_missing")
            #expect(reply.json["error"]?["request_id"] == "abc-123")
            #expect(reply.headers[HTTPField.Name("X-Request-ID")!] == "abc-123")
            let injected = try await client.get(
                "/v1/me", key: nil, headers: [HTTPField.Name("X-Request-ID")!: "<script>alert(1)</script>"])
            #expect(injected.json["error"]?["request_id"]?.stringValue?.contains("<") == false)
            // Without one of its own, each request gets a fresh id of 32 lowercase hex digits.
            let ids = try await [client.get("/v1/me", key: nil), client.get("/v1/me", key: nil)].map {
                try #require($0.json["error"]?["request_id"]?.stringValue)
            }
            #expect(ids[0] != ids[1])
            #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
            let owner = server.owner.ownerKey
            #expect(
                try await client.get("/v1/me", key: nil, headers: [.authorization: "bEaReR \(owner)"]).status == .ok)
            #expect(
                try await client.get("/v1/me", key: nil, headers: [.authorization: "Basic \(owner)"]).code
                    == "api_key_missing")
            #expect(
                try await client.get("/v1/me", key: nil, headers: [.authorization: owner]).code == "api_key_missing")
            #expect(
                try await client.get("/v1/me", key: nil, headers: [.authorization: "Bearer "]).code == "api_key_missing"
            )
            let unknown = try await client.get("/v1/nothing-here", key: server.owner.ownerKey)
            #expect(unknown.status == .notFound)
            #expect(unknown.code == "not_found")
            #expect(try await client.get("/healthz", key: nil).status == .ok)
            #expect(try await client.get("/readyz", key: nil).json["status"] == "ready")
        }
    }
}
