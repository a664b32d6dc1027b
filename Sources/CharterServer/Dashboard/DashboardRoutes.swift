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
    let sessions: DashboardSessions

    init(controlPlane: ControlPlane, origins: DashboardOrigin) {
        self.controlPlane = controlPlane
        self.origins = origins
        sessions = DashboardSessions(store: controlPlane.store, clock: controlPlane.clock)
    }

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

    // MARK: Page plumbing

    typealias Page = @Sendable (Request, CharterRequestContext, Signed) async throws -> Response

    /// A GET page for a signed-in caller (``SessionAuthentication`` sends others to sign in).
    private func page(_ endpoint: Endpoint, on routes: EndpointRouter, _ render: @escaping Page) {
        routes.on(endpoint) { request, context, _ in try await render(request, context, try context.signed()) }
    }

    typealias FormAction<Form> = @Sendable (Form, Request, CharterRequestContext, Signed) async throws -> Response

    /// A form POST, which must carry the session's CSRF token (``SessionAuthentication`` has already refused
    /// one from another origin).
    private func action<Form: ProtectedForm>(
        _ endpoint: Endpoint, on routes: EndpointRouter, _ perform: @escaping FormAction<Form>
    ) {
        routes.on(endpoint) { request, context, _ in
            let signed = try context.signed()
            let form = try await Form.decode(request, context)
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

    /// A refusal as a page, with the status its API call would have.
    static func failure(_ error: any Error, signed: Signed?, back: String) -> Response {
        let (notice, status): (String, HTTPResponse.Status) =
            switch error {
            case let error as CharterError: ("\(error.message) (\(error.code.rawValue))", error.status)
            case let error as HTTPRefusal: ("\(error.message) (\(error.code.rawValue))", error.status)
            default: ("something went wrong; the request changed nothing (internal_error)", .internalServerError)
            }
        return DashboardTemplate.failure.page(
            "Not done", session: signed, DashboardModels.Failure(notice: notice, back: back), status: status)
    }

    // MARK: The home page

    private func home(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        if signed.identity.has(.appsRead) { return HTML.redirect("/dashboard/apps") }
        return DashboardTemplate.home.page(
            signed.identity.organization.name, session: signed, DashboardModels.Home(signed.identity.key))
    }
}

extension CharterRequestContext {
    /// The signed-in caller of a session endpoint, as ``SessionAuthentication`` left it in the context.
    func signed() throws(CharterError) -> DashboardRoutes.Signed {
        guard let identity, let csrf else { throw CharterError(.internalError, "internal error") }
        return DashboardRoutes.Signed(identity: identity, csrf: csrf)
    }
}
