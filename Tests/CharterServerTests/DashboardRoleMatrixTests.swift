import CharterCore
import CharterServer
import Foundation
import HTTPTypes
import Testing
import UCAN

/// For each role and every dashboard page and form: allowed, or a 403 page naming `permission_denied` that
/// changed nothing and was audited. Expected from the API matrix (the dashboard endpoint of an action is
/// allowed exactly when the API endpoint of the same action is), so the two cannot disagree.
@Suite struct DashboardRoleMatrixTests {
    /// The dashboard's one action without an API endpoint, written out from DESIGN.md.
    static let readsSigningKeys: Set<Role> = [.owner, .admin, .auditor]

    static func allowed(_ role: Role, _ endpoint: Endpoint) -> Bool {
        guard let action = endpoint.action else { return true }
        if action == .readSigningKeys { return readsSigningKeys.contains(role) }
        let api = Endpoint.api.filter { $0.action == action }
        precondition(!api.isEmpty, "\(endpoint) has no API twin")
        return api.allSatisfy { RoleMatrixTests.allowed[role]!.contains($0) }
    }

    @Test func everySessionEndpointNamesAnAction() {
        #expect(!Endpoint.dashboard.isEmpty)
        for endpoint in Endpoint.dashboard {
            #expect(endpoint.path.hasPrefix("/dashboard"), "\(endpoint)")
            #expect(endpoint.action != nil, "\(endpoint)")
        }
    }

    @Test(arguments: Role.allCases)
    func theRoleGetsExactlyItsPagesAndForms(role: Role) async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        let keyID = try await server.run { client in
            let (key, keyID) = try await client.createKey(owner, app: app, role: role.rawValue)
            let cookie = try await DashboardTests.signIn(client, key)
            var home = try await DashboardTests.page(client, "/dashboard", cookie: cookie)
            if home.status == .seeOther, let location = home.headers[.location] {
                home = try await DashboardTests.page(client, location, cookie: cookie)
            }
            let csrf = "csrf=\(DashboardTests.encode(try DashboardTests.csrf(in: home)))"
            for endpoint in Endpoint.dashboard {
                let target: String =
                    switch endpoint {
                    case .dashboardApp, .dashboardCreateKey: app
                    case .dashboardRevokeEnvelope: try await client.createEnvelope(owner, app: app)
                    default: try await client.createKey(owner, app: app, role: "member").id
                    }
                let path = endpoint.path.replacingOccurrences(of: ":id", with: target)
                let reply: Client.Reply
                if endpoint.method == .get {
                    reply = try await DashboardTests.page(client, path, cookie: cookie)
                } else {
                    let fields: String =
                        switch endpoint {
                        case .dashboardCreateApp: "&name=app-\(UUID().uuidString.prefix(6))&environment=test"
                        case .dashboardCreateKey: "&label=\(UUID().uuidString)&role=member&expiry=never"
                        case .dashboardCreateEnvelope:
                            "&app_id=\(app)&name=\(UUID().uuidString)&max_ttl_seconds=60&capabilities="
                                + DashboardTests.encode(#"{"mailto:a@b.c": {"email/send": [{}]}}"#)
                        case .dashboardRotateSigningKey: "&environment=test"
                        default: ""
                        }
                    reply = try await DashboardTests.form(client, path, csrf + fields, cookie: cookie)
                }
                if Self.allowed(role, endpoint) {
                    #expect(reply.status.code < 400, "\(role) \(endpoint): \(reply.status) \(reply.text)")
                } else {
                    #expect(reply.status == .forbidden, "\(role) \(endpoint): \(reply.status)")
                    #expect(reply.text.contains("permission_denied"), "\(role) \(endpoint)")
                    #expect(reply.text.contains(endpoint.permission!.rawValue), "\(role) \(endpoint)")
                }
                if endpoint == .dashboardRevokeKey {
                    let revoked = try await client.get("/v1/keys/\(target)", key: owner).json["status"]?.stringValue
                    #expect((revoked == "revoked") == Self.allowed(role, endpoint), "\(role) \(endpoint)")
                }
            }
            return keyID
        }
        // Every refusal above is in the key's own trail, as the API's are.
        let refusals = Endpoint.dashboard.filter { !Self.allowed(role, $0) }.count
        let denied = try await server.store.auditRecords(
            orgID: server.owner.organization.id, query: AuditQuery(keyID: keyID, action: "request.denied"))
        #expect(denied.count == refusals, "\(role): \(denied.count) of \(refusals) refusals audited")
    }
}
