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

    static func form(
        _ client: Client, _ path: String, _ body: String, cookie: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Client.Reply {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        headers.append(contentsOf: extra)
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

    @Test func theAuditLogShowsEachKeysLabelBesideItsID() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let agent = try await client.createKey(owner, app: server.owner.app.id, label: "<b>mailer</b>")
            let created = try await client.post(
                "/v1/apps", key: agent.key, json: ["name": "by-the-mailer", "environment": "test"])
            #expect(created.status == .created, "an audited call under the new key")
            let cookie = try await Self.signIn(client, owner)
            let page = try await Self.page(client, "/dashboard/audit?key_id=\(server.owner.keyID)", cookie: cookie)
            #expect(page.status == .ok)
            // The owner's key.create row names the owner key by its label, and the new key is the target.
            let ownerKey = try await client.get("/v1/keys/\(server.owner.keyID)", key: owner)
            let ownerLabel = try #require(ownerKey.json["label"]?.stringValue)
            #expect(
                page.text.contains(
                    #"<span class="key-label">\#(ownerLabel)</span> <code>\#(server.owner.keyID)</code>"#))
            let agentRows = try await Self.page(client, "/dashboard/audit?key_id=\(agent.id)", cookie: cookie)
            #expect(
                agentRows.text.contains(
                    #"<span class="key-label">&lt;b&gt;mailer&lt;/b&gt;</span> <code>\#(agent.id)</code>"#))
            #expect(!agentRows.text.contains("<b>mailer</b>"), "labels are escaped")
        }
    }

    @Test func anOversizedFormIsA413PageThatChangesNothing() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let cookie = try await Self.signIn(client, owner)
            let name = String(repeating: "a", count: 70 * 1024)
            let refused = try await Self.form(
                client, "/dashboard/apps", "name=\(name)&environment=test", cookie: cookie)
            #expect(refused.status == .contentTooLarge && refused.text.contains("payload_too_large"))
            #expect(try await client.get("/v1/apps", key: owner).json["apps"]?.arrayValue?.count == 1)
        }
    }

    @Test func theKeyFormsCheckedPermissionsBecomeTheKeysPermissions() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let cookie = try await Self.signIn(client, owner)
            let app = try await Self.page(client, "/dashboard/apps/\(server.owner.app.id)", cookie: cookie)
            #expect(app.text.contains(#"name="permissions[]" value="keys.read""#), "one checkbox per permission")
            let body =
                "csrf=\(Self.encode(try Self.csrf(in: app)))&label=%20reader%20&role=custom"
                + "&permissions%5B%5D=keys.read&permissions%5B%5D=apps.read&expiry=never"
            let created = try await Self.form(
                client, "/dashboard/apps/\(server.owner.app.id)/keys", body, cookie: cookie)
            #expect(created.status == .ok)
            let keys = try await client.get("/v1/keys?app_id=\(server.owner.app.id)", key: owner)
            let reader = try #require(
                keys.json["keys"]?.arrayValue?.first { $0["label"]?.stringValue == "reader" }, "the label is trimmed")
            #expect(
                Set(reader["permissions"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["keys.read", "apps.read"])
        }
    }

    @Test func aFormThatIsNotTheDashboardsIsA422PageThatChangesNothing() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let cookie = try await Self.signIn(client, owner)
            let csrf = Self.encode(try Self.csrf(in: try await Self.page(client, "/dashboard/apps", cookie: cookie)))
            for body in [
                "csrf=\(csrf)&name=a&name=b&environment=test",
                "csrf=\(csrf)&name%5Bx%5D=a&environment=test",
                "csrf=\(csrf)&name=%E0%A4%A&environment=test",
            ] {
                let refused = try await Self.form(client, "/dashboard/apps", body, cookie: cookie)
                #expect(refused.status == .unprocessableContent, "\(body)")
                #expect(refused.text.contains("validation_failed"), "\(body)")
            }
            #expect(try await client.get("/v1/apps", key: owner).json["apps"]?.arrayValue?.count == 1)
        }
    }

    /// Whether the session behind `cookie` still opens a page rather than being sent to sign in.
    static func alive(_ client: Client, _ cookie: String) async throws -> Bool {
        let reply = try await page(client, "/dashboard", cookie: cookie)
        return !(reply.status == .seeOther && reply.headers[.location] == "/dashboard/sign-in")
    }

    @Test func signInsWithOneKeyEndOnlyThatKeysOwnOldestSessions() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        let other = try await server.secondOrganization()
        try await server.run { client in
            let member = try await client.createKey(other.ownerKey, app: other.app.id, role: "member")
            let victim = try await Self.signIn(client, server.owner.ownerKey)
            let colleague = try await Self.signIn(client, other.ownerKey)
            var flood: [String] = []
            for _ in 0..<25 { flood.append(try await Self.signIn(client, member.key)) }
            for (n, cookie) in flood.enumerated() {
                #expect(try await Self.alive(client, cookie) == (n >= 5), "sign-in \(n + 1) of 25")
            }
            #expect(try await Self.alive(client, victim), "another organization's session survives")
            #expect(try await Self.alive(client, colleague), "another key's session survives")
        }
    }

    static let foreign: [(String, HTTPFields)] = [
        ("another site's Origin", [.origin: "https://evil.example"]),
        ("another port's Origin", [.origin: "http://localhost:8081"]),
        ("a sandboxed frame", [.origin: "null"]),
        ("Sec-Fetch-Site: cross-site", [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"]),
        ("Sec-Fetch-Site: same-site", [HTTPField.Name("Sec-Fetch-Site")!: "same-site", .origin: "http://localhost"]),
    ]

    @Test func aSignInPostedFromAnotherSiteIsRefused() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            for (name, headers) in Self.foreign {
                let refused = try await Self.form(
                    client, "/dashboard/sign-in", "key=\(Self.encode(owner))", headers: headers)
                #expect(refused.status == .forbidden, "\(name)")
                #expect(refused.headers[.setCookie] == nil, "\(name)")
                #expect(refused.text.contains("not posted from this dashboard"), "\(name)")
            }
            let own = try await Self.form(
                client, "/dashboard/sign-in", "key=\(Self.encode(owner))",
                headers: [.origin: "http://localhost", HTTPField.Name("Sec-Fetch-Site")!: "same-origin"])
            #expect(own.status == .seeOther && own.headers[.setCookie] != nil, "the dashboard's own page signs in")
        }
    }

    @Test func aFormPostedFromAnotherSiteChangesNothingEvenWithTheCSRFToken() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let target = try await client.createKey(owner, app: server.owner.app.id)
            let cookie = try await Self.signIn(client, owner)
            let page = try await Self.page(client, "/dashboard/apps/\(server.owner.app.id)", cookie: cookie)
            let token = try Self.csrf(in: page)
            for (name, headers) in Self.foreign {
                let refused = try await Self.form(
                    client, "/dashboard/keys/\(target.id)/revoke", "csrf=\(Self.encode(token))", cookie: cookie,
                    headers: headers)
                #expect(refused.status == .forbidden, "\(name)")
                let out = try await Self.form(
                    client, "/dashboard/sign-out", "csrf=\(Self.encode(token))", cookie: cookie, headers: headers)
                #expect(out.status == .forbidden, "\(name)")
            }
            #expect(try await client.get("/v1/me", key: target.key).status == .ok, "the key is untouched")
            #expect(try await Self.alive(client, cookie), "the session is still signed in")
        }
    }

    @Test func theSessionCookieIsSecureWhenTheBrowserUsedHTTPS() async throws {
        let proto = HTTPField.Name("X-Forwarded-Proto")!
        let behindProxy = try await TestServer(trustedProxies: [try CIDR("127.0.0.1/32"), try CIDR("::1/128")])
        defer { behindProxy.removeFiles() }
        try await behindProxy.run { client in
            let key = "key=\(Self.encode(behindProxy.owner.ownerKey))"
            let https = try await Self.form(
                client, "/dashboard/sign-in", key, headers: [proto: "https", .origin: "https://localhost"])
            #expect(https.status == .seeOther)
            #expect(https.headers[.setCookie]?.contains("; Secure") == true)
            let http = try await Self.form(client, "/dashboard/sign-in", key, headers: [proto: "http"])
            #expect(http.headers[.setCookie]?.contains("Secure") == false)
            // The proxy's own entry is the last; a client's claim before it is not believed.
            let claimed = try await Self.form(client, "/dashboard/sign-in", key, headers: [proto: "https, http"])
            #expect(claimed.headers[.setCookie]?.contains("Secure") == false)
        }
        let direct = try await TestServer()
        defer { direct.removeFiles() }
        try await direct.run { client in
            let spoofed = try await Self.form(
                client, "/dashboard/sign-in", "key=\(Self.encode(direct.owner.ownerKey))", headers: [proto: "https"])
            #expect(spoofed.status == .seeOther)
            #expect(spoofed.headers[.setCookie]?.contains("Secure") == false, "an untrusted peer's header is ignored")
        }
    }
}
