import CharterCore
import CharterServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import UCAN

/// For each of the seven roles and every route: allowed or `permission_denied`, as DESIGN.md says.
@Suite struct RoleMatrixTests {
    /// Written out from DESIGN.md's role list rather than derived from `Role.permissions`, so a wrong
    /// preset shows here.
    static let allowed: [Role: Set<Endpoint>] = [
        .owner: Set(Endpoint.api),
        .admin: Set(Endpoint.api),
        .agentManager: Set(Endpoint.api).subtracting([
            .createEnvelope, .revokeEnvelope, .revokeToken, .rotateSigningKey,
        ]),
        .policyAuthor: [
            .listApps, .getApp, .listKeys, .getKey, .audit, .auditExport, .me, .createEnvelope, .listEnvelopes,
            .getEnvelope, .revokeEnvelope,
        ],
        .auditor: [.listApps, .getApp, .listKeys, .getKey, .audit, .auditExport, .me, .listEnvelopes, .getEnvelope],
        .member: [.me],
        .agent: [.me, .authorize],
    ]

    @Test func everyEndpointIsInTheMatrix() {
        for role in Role.allCases { #expect(Self.allowed[role] != nil, "\(role)") }
    }

    @Test(arguments: Role.allCases)
    func theRoleGetsExactlyItsEndpoints(role: Role) async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let (key, _) = try await client.createKey(owner, app: app, role: role.rawValue)
            let audience = DID(publicKey: Ed25519.SigningKey().publicKey)
            for endpoint in Endpoint.api {
                // A fresh target for each call, since revoking one uses it up.
                let target: String =
                    if endpoint.path.hasPrefix("/v1/apps") {
                        app
                    } else if endpoint.path.hasPrefix("/v1/envelopes") {
                        try await client.createEnvelope(owner, app: app)
                    } else if endpoint == .revokeToken {
                        try await client.mint(owner, audience: audience).cid.string
                    } else {
                        try await client.createKey(owner, app: app, role: "member").id
                    }
                let path = endpoint.path.replacingOccurrences(of: ":id", with: target)
                    .replacingOccurrences(of: ":cid", with: target)
                let body: JSONValue? =
                    switch endpoint {
                    case .createApp: ["name": .string("app-\(UUID().uuidString.prefix(6))"), "environment": "test"]
                    case .createKey: ["app_id": .string(app), "label": .string(UUID().uuidString), "role": "member"]
                    case .updateKey: ["label": .string(UUID().uuidString)]
                    case .revokeKey, .duplicateKey, .revokeEnvelope, .revokeToken: [:]
                    case .createEnvelope:
                        [
                            "app_id": .string(app), "name": .string(UUID().uuidString),
                            "capabilities": Client.mailCapabilities, "max_ttl_seconds": 60,
                        ]
                    case .authorize:
                        ["audience": .string(audience.string), "capabilities": ["mailto:a@b.c": ["email/send": [[:]]]]]
                    case .rotateSigningKey: ["environment": "test"]
                    default: nil
                    }
                let reply = try await client.call(endpoint.method, path, key: key, json: body)
                let expected = Self.allowed[role]!.contains(endpoint)
                if expected {
                    #expect(reply.status.code < 400, "\(role) \(endpoint): \(reply.status) \(reply.text)")
                } else {
                    #expect(reply.status == .forbidden, "\(role) \(endpoint): \(reply.status)")
                    #expect(reply.code == "permission_denied")
                    #expect(
                        reply.json["error"]?["message"]?.stringValue?.contains(endpoint.permission!.rawValue) == true)
                }
                if [.member, .auditor].contains(role), endpoint.method != .get {
                    #expect(reply.status == .forbidden, "\(role) may not write: \(endpoint)")
                }
            }
        }
    }

    @Test func noKeyCanCreateAKeyWithAPermissionItLacks() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        try await server.run { client in
            let (manager, _) = try await client.createKey(owner, app: app, role: "agent_manager")
            for attempt: JSONValue in [
                ["app_id": .string(app), "label": "a", "role": "admin"],
                ["app_id": .string(app), "label": "b", "role": "owner"],
                ["app_id": .string(app), "label": "c", "permissions": ["keys.write", "envelopes.write"]],
            ] {
                let reply = try await client.post("/v1/keys", key: manager, json: attempt)
                #expect(reply.status == .forbidden)
                #expect(reply.code == "permission_denied")
            }
            let fine = try await client.post(
                "/v1/keys", key: manager, json: ["app_id": .string(app), "label": "d", "permissions": ["keys.read"]])
            #expect(fine.status == .created)
            // Nor manage a key that holds more than it does.
            let ownerID = server.owner.keyID
            #expect(try await client.post("/v1/keys/\(ownerID)/revoke", key: manager).status == .forbidden)
            #expect(
                try await client.call(.patch, "/v1/keys/\(ownerID)", key: manager, json: ["label": "x"]).status
                    == .forbidden)
        }
    }
}
