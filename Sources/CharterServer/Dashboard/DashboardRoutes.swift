import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// The web dashboard at `/dashboard`: server-rendered pages over the same services as the API, so every
/// action is checked and audited exactly as its API call would be.
///
/// Signing in with an API key starts a session (an HttpOnly, SameSite=Strict cookie, Secure over HTTPS);
/// every page re-authenticates the session's key, so a revoked key is signed out at once. Every POST must
/// come from the dashboard's own origin, and every form that changes something carries the session's CSRF
/// token. What the key may not do is not offered, and is refused by the services if asked anyway.
struct DashboardRoutes: Sendable {
    /// A signed-in request: who, and the session's CSRF token.
    struct Signed {
        let identity: Identity
        let csrf: String
    }

    let controlPlane: ControlPlane
    let origins: DashboardOrigin
    let sessions = DashboardSessions()

    /// The middleware that signs in the dashboard's session endpoints.
    var authentication: SessionAuthentication {
        SessionAuthentication(controlPlane: controlPlane, sessions: sessions, origins: origins)
    }

    func register(on routes: EndpointRouter) {
        page(.dashboardHome, on: routes, home)
        routes.on(.dashboardSignInPage) { _, _ in signInPage() }
        routes.on(.dashboardSignIn) { request, context in try await signIn(request, context) }
        routes.on(.dashboardSignOut) { request, context in try await signOut(request, context) }
        page(.dashboardApps, on: routes, apps)
        action(.dashboardCreateApp, on: routes, createApp)
        page(.dashboardApp, on: routes, app)
        action(.dashboardCreateKey, on: routes, createKey)
        action(.dashboardRevokeKey, on: routes, revokeKey)
        action(.dashboardDuplicateKey, on: routes, duplicateKey)
        page(.dashboardEnvelopes, on: routes, envelopes)
        action(.dashboardCreateEnvelope, on: routes, createEnvelope)
        action(.dashboardRevokeEnvelope, on: routes, revokeEnvelope)
        page(.dashboardSigningKeys, on: routes, signingKeys)
        action(.dashboardRotateSigningKey, on: routes, rotate)
        page(.dashboardAudit, on: routes, audit)
        routes.on(.dashboardStylesheet) { _, _ in DashboardAssets.response(DashboardAssets.css, type: "text/css") }
        routes.on(.dashboardScript) { _, _ in
            DashboardAssets.response(DashboardAssets.javascript, type: "text/javascript")
        }
    }

    // MARK: Sessions

    private func signInPage(_ message: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        HTML.response(
            HTML.page(
                "Sign in", session: nil,
                """
                \(message.map { HTML.notice($0) } ?? "")
                <form class="card narrow" method="post" action="/dashboard/sign-in">
                  <label for="key">API key</label>
                  <input id="key" name="key" type="password" autocomplete="off" required placeholder="chr_live_…">
                  <p class="hint">The key is checked like any API call and never stored; the session ends when you sign out, after 30 idle minutes, or when the key is revoked.</p>
                  <button type="submit">Sign in</button>
                </form>
                """), status: status)
    }

    private func signIn(_ request: Request, _ context: CharterRequestContext) async throws -> Response {
        // Before the key is looked at: another site must not sign a visitor in under a key of its choosing
        // (login CSRF), nor learn from the answer whether a key works.
        guard !origins.isCrossOrigin(request, context) else {
            return signInPage(Self.crossOrigin.message, status: .forbidden)
        }
        let form = try await Self.form(request, context)
        let presented = form["key"] ?? ""
        let identity: Identity
        do {
            identity = try await controlPlane.authenticator.authenticate(
                authorization: "Bearer \(presented)", ip: context.clientIP, path: "/dashboard")
        } catch {
            Denials.record(error.error, key: error.key, request: request, context: context, into: controlPlane)
            // The same words whatever was wrong with the key, as the API's 401s are indistinguishable.
            return signInPage("That key cannot sign in (\(error.error.code.rawValue)).", status: .unauthorized)
        }
        guard
            let token = sessions.start(
                keyHash: APIKeySecret.hash(of: Substring(presented)), keyID: identity.key.id,
                organizationID: identity.organization.id, at: controlPlane.clock.now())
        else {
            return signInPage(
                "The dashboard has as many sessions as it can hold; try again when some have ended.",
                status: .serviceUnavailable)
        }
        var response = HTML.redirect("/dashboard")
        response.setCookie(Self.cookie(token, secure: origins.isHTTPS(request, context)))
        return response
    }

    private func signOut(_ request: Request, _ context: CharterRequestContext) async throws -> Response {
        guard !origins.isCrossOrigin(request, context) else {
            return Self.failure(Self.crossOrigin, signed: nil, back: "/dashboard")
        }
        let form = try await Self.form(request, context)
        if let token = request.cookies[DashboardSessions.cookie]?.value,
            let session = sessions.session(token, at: controlPlane.clock.now()),
            form.carries(csrf: session.csrf)
        {
            sessions.end(token)
        }
        var response = HTML.redirect("/dashboard/sign-in")
        response.setCookie(Self.cookie("", secure: origins.isHTTPS(request, context), expire: true))
        return response
    }

    /// The session cookie; `Secure` whenever the browser's connection was HTTPS, so it is never sent in clear.
    static func cookie(_ value: String, secure: Bool, expire: Bool = false) -> Cookie {
        Cookie(
            name: DashboardSessions.cookie, value: value, maxAge: expire ? 0 : nil, path: "/dashboard", secure: secure,
            httpOnly: true, sameSite: .strict)
    }

    /// The refusal of a POST from another site's page.
    static let crossOrigin = CharterError(
        .permissionDenied, "this form was not posted from this dashboard's own pages; open the dashboard and try there")

    // MARK: Page plumbing

    typealias Page = @Sendable (Request, CharterRequestContext, Signed) async throws -> Response

    /// A GET page for a signed-in caller (``SessionAuthentication`` sends others to sign in).
    private func page(_ endpoint: Endpoint, on routes: EndpointRouter, _ render: @escaping Page) {
        routes.on(endpoint) { request, context, caller in
            try await render(request, context, Signed(identity: caller, csrf: context.csrf ?? ""))
        }
    }

    typealias FormAction = @Sendable (FormData, Request, CharterRequestContext, Signed) async throws -> Response

    /// A form POST, which must carry the session's CSRF token (``SessionAuthentication`` has already refused
    /// one from another origin).
    private func action(_ endpoint: Endpoint, on routes: EndpointRouter, _ perform: @escaping FormAction) {
        routes.on(endpoint) { request, context, caller in
            let signed = Signed(identity: caller, csrf: context.csrf ?? "")
            let form = try await Self.form(request, context)
            guard form.carries(csrf: signed.csrf) else {
                throw CharterError(
                    .permissionDenied, "the form is stale or did not come from this dashboard; reload it")
            }
            return try await perform(form, request, context, signed)
        }
    }

    /// The page a form was posted from, for the Back link of a refusal (pages send no Referer).
    static func pageAbove(_ path: String) -> String {
        let parts = path.split(separator: "/")
        switch (parts.count, parts.dropFirst().first) {
        case (4, "apps"): return "/" + parts.prefix(3).joined(separator: "/")  // /dashboard/apps/ID/keys
        case (_, "keys"): return "/dashboard/apps"
        case (_, let section?): return "/dashboard/\(section)"
        default: return "/dashboard"
        }
    }

    private static func form(_ request: Request, _ context: CharterRequestContext) async throws -> FormData {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        return FormData(String(buffer: body))
    }

    /// A refusal as a page, with the status its API call would have.
    static func failure(_ error: any Error, signed: Signed?, back: String) -> Response {
        let charterError =
            (error as? CharterError)
            ?? CharterError(.internalError, "something went wrong; the request changed nothing")
        return HTML.response(
            HTML.page(
                "Not done", session: signed,
                """
                \(HTML.notice("\(charterError.message) (\(charterError.code.rawValue))"))
                <p><a class="button" href="\(HTML.escape(back))">Back</a></p>
                """), status: charterError.status)
    }

    // MARK: Pages

    private func home(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        if signed.identity.has(.appsRead) { return HTML.redirect("/dashboard/apps") }
        let key = signed.identity.key
        return HTML.response(
            HTML.page(
                signed.identity.organization.name, session: signed,
                """
                <section class="card">
                  <p>Signed in with <strong>\(HTML.escape(key.label))</strong> (\(HTML.escape(key.prefix))), role \(HTML.escape(key.role?.rawValue ?? "custom")).</p>
                  <p>This key may: \(HTML.escape(key.permissions.sorted().map(\.rawValue).joined(separator: ", ")))</p>
                </section>
                """))
    }

    private func apps(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        let apps = try await controlPlane.apps.list(by: signed.identity)
        let rows = apps.map { app in
            """
            <tr><td><a href="/dashboard/apps/\(HTML.escape(app.id))">\(HTML.escape(app.name))</a></td>\
            <td><span class="tag \(app.environment.rawValue)">\(app.environment.rawValue)</span></td>\
            <td><code>\(HTML.escape(app.id))</code></td><td>\(HTML.time(app.createdAt))</td></tr>
            """
        }.joined()
        let create =
            signed.identity.has(.appsWrite)
            ? """
            <form class="card inline" method="post" action="/dashboard/apps">\(HTML.csrfField(signed.csrf))
              <label>Name <input name="name" required maxlength="100"></label>
              <label>Environment <select name="environment"><option>live</option><option>test</option></select></label>
              <button type="submit" id="create-app">Create app</button>
            </form>
            """ : ""
        return HTML.response(
            HTML.page(
                "Apps", session: signed,
                """
                \(create)
                <div class="scroll"><table><thead><tr><th>Name</th><th>Environment</th><th>ID</th><th>Created</th></tr></thead>
                <tbody>\(rows.isEmpty ? #"<tr><td colspan="4">No apps yet.</td></tr>"# : rows)</tbody></table></div>
                """))
    }

    private func createApp(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let app = try await controlPlane.apps.create(
            name: form["name"] ?? "", environment: form["environment"] ?? "", by: signed.identity, context: context.call
        )
        return HTML.redirect("/dashboard/apps/\(app.id)")
    }

    private func app(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        let id = try context.parameters.require("id")
        let identity = signed.identity
        let app = try await controlPlane.apps.get(id: id, by: identity)
        let now = controlPlane.clock.now()
        var sections = """
            <p class="meta"><span class="tag \(app.environment.rawValue)">\(app.environment.rawValue)</span> <code>\(HTML.escape(app.id))</code> · created \(HTML.time(app.createdAt))</p>
            """
        if identity.has(.keysRead) {
            let keys = try await controlPlane.keys.list(
                appID: app.id, status: nil, expiringWithinDays: nil, by: identity)
            sections += DashboardPages.keysTable(keys, now: now, signed: signed)
        }
        if identity.has(.keysWrite) {
            sections += DashboardPages.createKeyDialog(app: app, signed: signed)
        }
        return HTML.response(HTML.page(app.name, session: signed, sections))
    }

    private func createKey(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let appID = try context.parameters.require("id")
        let role = form["role"].flatMap { $0 == "custom" ? nil : $0 }
        let permissions = role == nil ? form.all("permissions") : nil
        var expiresInDays: Int?
        var expiresAt: Date?
        switch form["expiry"] ?? "never" {
        case "never": break
        case "30": expiresInDays = 30
        case "90": expiresInDays = 90
        case "custom":
            guard let text = form["expires_on"], let day = DashboardPages.day(text) else {
                throw CharterError.invalid("expires_at", "choose a date for the key to expire")
            }
            expiresAt = day
        default: throw CharterError.invalid("expires_at", "choose when the key expires")
        }
        let ips = form.lines("ip_allowlist")
        let endpoints = form.lines("allowed_endpoints")
        let issued = try await controlPlane.keys.create(
            NewKeyRequest(
                appID: appID, label: form["label"] ?? "", role: role, permissions: permissions, expiresAt: expiresAt,
                expiresInDays: expiresInDays, ipAllowlist: ips.isEmpty ? nil : ips,
                allowedEndpoints: endpoints.isEmpty ? nil : endpoints,
                rateLimitPerMinute: form["rate_limit_per_minute"].flatMap { Int($0) }),
            by: signed.identity, context: context.call)
        return DashboardPages.reveal(issued, signed: signed)
    }

    private func revokeKey(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let key = try await controlPlane.keys.revoke(
            id: try context.parameters.require("id"), by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/apps/\(key.appID)")
    }

    private func duplicateKey(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let issued = try await controlPlane.keys.duplicate(
            id: try context.parameters.require("id"), label: nil, by: signed.identity, context: context.call)
        return DashboardPages.reveal(issued, signed: signed)
    }

    private func envelopes(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws
        -> Response
    {
        let identity = signed.identity
        let envelopes = try await controlPlane.envelopes.list(appID: nil, by: identity)
        let apps = identity.has(.appsRead) ? try await controlPlane.apps.list(by: identity) : []
        return HTML.response(
            HTML.page(
                "Envelopes", session: signed,
                DashboardPages.envelopes(envelopes, apps: apps, signed: signed, now: controlPlane.clock.now())))
    }

    private func createEnvelope(
        _ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        let capabilities: JSONValue
        do {
            capabilities = try JSONParser.parse(Array((form["capabilities"] ?? "").utf8))
        } catch {
            throw CharterError.invalid("capabilities", "must be a JSON object of resource → ability → caveats")
        }
        guard let ttl = form["max_ttl_seconds"].flatMap({ Int($0) }) else {
            throw CharterError.invalid("max_ttl_seconds", "must be a whole number of seconds")
        }
        _ = try await controlPlane.envelopes.create(
            appID: form["app_id"] ?? "", name: form["name"] ?? "", capabilities: capabilities, maxTTLSeconds: ttl,
            by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/envelopes")
    }

    private func revokeEnvelope(
        _ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        _ = try await controlPlane.envelopes.revoke(
            id: try context.parameters.require("id"), by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/envelopes")
    }

    private func signingKeys(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws
        -> Response
    {
        let issuers = try await controlPlane.signingKeys.issuers(of: signed.identity)
        return HTML.response(
            HTML.page(
                "Signing keys", session: signed,
                DashboardPages.signingKeys(issuers, signed: signed, now: controlPlane.clock.now())))
    }

    private func rotate(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        guard let environment = form["environment"].flatMap(Environment.init(rawValue:)) else {
            throw CharterError.invalid("environment", "must be live or test")
        }
        _ = try await controlPlane.signingKeys.rotate(environment, by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/signing-keys")
    }

    private func audit(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response
    {
        let parameters = request.uri.queryParameters
        func text(_ name: String) -> String? {
            parameters[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        let pageSize = 50
        var query = AuditQuery(
            keyID: text("key_id"), action: text("action"), outcome: text("outcome").flatMap(AuditEvent.Outcome.init),
            since: text("since").flatMap(DashboardPages.day),
            until: text("until").flatMap(DashboardPages.day).map { $0.addingTimeInterval(86_400 - 0.001) },
            before: text("cursor").flatMap { Int64($0) }, limit: pageSize + 1)
        if text("outcome") != nil, query.outcome == nil {
            throw CharterError.invalid("outcome", "must be success, denied or failure")
        }
        var records = try await controlPlane.audit.query(query, by: signed.identity)
        let keys =
            signed.identity.has(.keysRead)
            ? try await controlPlane.keys.list(appID: nil, status: nil, expiringWithinDays: nil, by: signed.identity)
            : []
        let more = records.count > pageSize
        records = Array(records.prefix(pageSize))
        query.before = more ? records.last?.seq : nil
        return HTML.response(
            HTML.page(
                "Audit log", session: signed,
                DashboardPages.audit(
                    records, labels: Dictionary(keys.map { ($0.id, $0.label) }) { first, _ in first }, filters: text,
                    next: query.before)))
    }
}
