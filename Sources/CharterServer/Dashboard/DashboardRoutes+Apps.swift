import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// The apps pages: the list, one app with its keys, and the key forms.
extension DashboardRoutes {
    func apps(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        let apps = try await controlPlane.apps.list(by: signed.identity)
        return DashboardTemplate.apps.page(
            "Apps", session: signed,
            DashboardModels.Apps(
                canCreate: signed.identity.has(.appsWrite), apps: apps.map(DashboardModels.AppRow.init)))
    }

    func createApp(
        _ form: DashboardForms.CreateApp, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        let app = try await controlPlane.apps.create(
            name: form.name.trimmed ?? "", environment: form.environment.trimmed ?? "", by: signed.identity,
            context: context.call)
        return HTML.redirect("/dashboard/apps/\(app.id)")
    }

    func app(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        let identity = signed.identity
        let app = try await controlPlane.apps.get(id: try context.parameters.require("id"), by: identity)
        let keys =
            identity.has(.keysRead)
            ? try await controlPlane.keys.list(appID: app.id, status: nil, expiringWithinDays: nil, by: identity)
            : nil
        return DashboardTemplate.app.page(
            app.name, session: signed,
            DashboardModels.AppDetail(
                id: app.id, environment: app.environment.rawValue, created: HTML.time(app.createdAt),
                keys: keys.map {
                    DashboardModels.Keys($0, now: controlPlane.clock.now(), canWrite: identity.has(.keysWrite))
                },
                createKey: identity.has(.keysWrite)
                    ? DashboardModels.CreateKey(appID: app.id, held: identity.key.permissions) : nil))
    }

    func createKey(
        _ form: DashboardForms.CreateKey, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        let appID = try context.parameters.require("id")
        let role = form.role.trimmed.flatMap { $0 == "custom" ? nil : $0 }
        let permissions = role == nil ? (form.permissions ?? []).filter { !$0.isEmpty } : nil
        var expiresInDays: Int?
        var expiresAt: Date?
        switch form.expiry.trimmed ?? "never" {
        case "never": break
        case "30": expiresInDays = 30
        case "90": expiresInDays = 90
        case "custom":
            guard let text = form.expiresOn.trimmed, let day = HTML.day(text) else {
                throw CharterError.invalid("expires_at", "choose a date for the key to expire")
            }
            expiresAt = day
        default: throw CharterError.invalid("expires_at", "choose when the key expires")
        }
        let ips = form.ipAllowlist.lines
        let endpoints = form.allowedEndpoints.lines
        let issued = try await controlPlane.keys.create(
            NewKeyRequest(
                appID: appID, label: form.label.trimmed ?? "", role: role, permissions: permissions,
                expiresAt: expiresAt, expiresInDays: expiresInDays, ipAllowlist: ips.isEmpty ? nil : ips,
                allowedEndpoints: endpoints.isEmpty ? nil : endpoints,
                rateLimitPerMinute: form.rateLimitPerMinute.trimmed.flatMap { Int($0) }),
            by: signed.identity, context: context.call)
        return reveal(issued, signed: signed)
    }

    func revokeKey(
        _ form: DashboardForms.Confirm, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        let key = try await controlPlane.keys.revoke(
            id: try context.parameters.require("id"), by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/apps/\(key.appID)")
    }

    func duplicateKey(
        _ form: DashboardForms.Confirm, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        let issued = try await controlPlane.keys.duplicate(
            id: try context.parameters.require("id"), label: nil, by: signed.identity, context: context.call)
        return reveal(issued, signed: signed)
    }

    /// The one and only time a key's plaintext is shown.
    private func reveal(_ issued: IssuedKey, signed: Signed) -> Response {
        DashboardTemplate.reveal.page("Your new API key", session: signed, DashboardModels.Reveal(issued))
    }
}
