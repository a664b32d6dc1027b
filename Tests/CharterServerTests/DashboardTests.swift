import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import Testing
import UCAN

/// The dashboard's defences, against the live server: sessions, CSRF, escaping, headers, other orgs.
/// (The pages themselves are driven in a real browser by scripts/dashboard.sh.)
@Suite struct DashboardTests {
    /// Signs in with `key`; returns the session cookie.
    static func signIn(_ client: Client, _ key: String) async throws -> String {
        let reply = try await form(client, "/dashboard/sign-in", "key=\(encode(key))")
        #expect(reply.status == .seeOther)
        let cookie = try #require(reply.headers[.setCookie])
        return String(try #require(cookie.split(separator: ";").first))
    }

    static func form(_ client: Client, _ path: String, _ body: String, cookie: String? = nil) async throws
        -> Client.Reply
    {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        return try await client.client.execute(
            uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)
        ) { response in
            Client.Reply(
                status: response.status, headers: response.headers, bytes: Array(response.body.readableBytesView))
        }
    }

    static func page(_ client: Client, _ path: String, cookie: String) async throws -> Client.Reply {
        try await client.get(path, key: nil, headers: [.cookie: cookie])
    }

    static func csrf(in page: Client.Reply) throws -> String {
        let text = page.text
        let marker = #"name="csrf" value=""#
        let start = try #require(text.range(of: marker)).upperBound
        return String(text[start...].prefix { $0 != "\"" })
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    @Test func aFormWithoutTheSessionsCSRFTokenChangesNothing() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let target = try await client.createKey(owner, app: server.owner.app.id)
            let cookie = try await Self.signIn(client, owner)
            for body in ["", "csrf=", "csrf=forged-token-of-the-right-length-0123456789abc"] {
                let refused = try await Self.form(client, "/dashboard/keys/\(target.id)/revoke", body, cookie: cookie)
                #expect(refused.status == .forbidden, "body \(body)")
            }
            #expect(try await client.get("/v1/me", key: target.key).status == .ok, "the key is untouched")

            let page = try await Self.page(client, "/dashboard/apps/\(server.owner.app.id)", cookie: cookie)
            let token = try Self.csrf(in: page)
            let revoked = try await Self.form(
                client, "/dashboard/keys/\(target.id)/revoke", "csrf=\(Self.encode(token))", cookie: cookie)
            #expect(revoked.status == .seeOther)
            #expect(try await client.get("/v1/me", key: target.key).code == "api_key_revoked")

            let otherSession = try await Self.signIn(client, owner)
            let crossed = try await Self.form(
                client, "/dashboard/apps", "csrf=\(Self.encode(token))&name=x&environment=live", cookie: otherSession)
            #expect(crossed.status == .forbidden, "one session's token is no good for another")
        }
    }

    @Test func aSessionEndsWithItsKeyAndWithSigningOut() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let admin = try await client.createKey(owner, app: server.owner.app.id)
            let cookie = try await Self.signIn(client, admin.key)
            #expect(try await Self.page(client, "/dashboard/apps", cookie: cookie).status == .ok)
            _ = try await client.post("/v1/keys/\(admin.id)/revoke", key: owner)
            let after = try await Self.page(client, "/dashboard/apps", cookie: cookie)
            #expect(after.status == .seeOther && after.headers[.location] == "/dashboard/sign-in")

            let second = try await Self.signIn(client, owner)
            let page = try await Self.page(client, "/dashboard/apps", cookie: second)
            let out = try await Self.form(
                client, "/dashboard/sign-out", "csrf=\(Self.encode(try Self.csrf(in: page)))", cookie: second)
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await Self.page(client, "/dashboard/apps", cookie: second).status == .seeOther)

            let refused = try await Self.form(client, "/dashboard/sign-in", "key=\(Self.encode(admin.key))")
            #expect(refused.status == .unauthorized && !refused.text.contains(admin.key))
            #expect(refused.headers[.setCookie] == nil)
        }
        let denials = try await server.store.auditRecords(
            orgID: server.owner.organization.id, query: AuditQuery(action: "request.denied"))
        #expect(denials.contains { $0.event.reason == "api_key_revoked" }, "refused sign-ins are audited")
    }

    @Test func pagesEscapeStoredTextAndForbidFramingCachingAndInlineScript() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            _ = try await client.createKey(owner, app: server.owner.app.id, label: #"<script>alert("x")</script>"#)
            let cookie = try await Self.signIn(client, owner)
            let page = try await Self.page(client, "/dashboard/apps/\(server.owner.app.id)", cookie: cookie)
            #expect(page.status == .ok)
            #expect(!page.text.contains("<script>alert"))
            #expect(page.text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
            #expect(!page.text.contains(owner), "the page never holds a stored key's plaintext")
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")

            let signIn = try await Self.form(client, "/dashboard/sign-in", "key=\(Self.encode(owner))")
            let setCookie = try #require(signIn.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
            #expect(!setCookie.contains(owner))
        }
    }

    @Test func anotherOrganizationsAppIsNotFound() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let other = try await server.secondOrganization()
        try await server.run { client in
            let cookie = try await Self.signIn(client, other.ownerKey)
            let foreign = try await Self.page(client, "/dashboard/apps/\(server.owner.app.id)", cookie: cookie)
            let missing = try await Self.page(client, "/dashboard/apps/app_doesnotexist0000000", cookie: cookie)
            #expect(foreign.status == .notFound && missing.status == .notFound)
            #expect(foreign.text == missing.text, "byte-identical: nothing tells the app exists")
        }
    }
}
