import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// The apps pages: the list, one app with its keys, and the key forms.
extension DashboardRoutes {
    func apps(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
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

    func createApp(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let app = try await controlPlane.apps.create(
            name: form["name"] ?? "", environment: form["environment"] ?? "", by: signed.identity, context: context.call
        )
        return HTML.redirect("/dashboard/apps/\(app.id)")
    }

    func app(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
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

    func createKey(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
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

    func revokeKey(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let key = try await controlPlane.keys.revoke(
            id: try context.parameters.require("id"), by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/apps/\(key.appID)")
    }

    func duplicateKey(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        let issued = try await controlPlane.keys.duplicate(
            id: try context.parameters.require("id"), label: nil, by: signed.identity, context: context.call)
        return DashboardPages.reveal(issued, signed: signed)
    }
}
