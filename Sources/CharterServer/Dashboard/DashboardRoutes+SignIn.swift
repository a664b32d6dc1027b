import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// Signing in with an API key, and out.
extension DashboardRoutes {
    func signInPage(_ message: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        DashboardTemplate.signIn.page("Sign in", session: nil, DashboardModels.SignIn(notice: message), status: status)
    }

    func signIn(_ request: Request, _ context: CharterRequestContext) async throws -> Response {
        // Before the key is looked at: another site must not sign a visitor in under a key of its choosing
        // (login CSRF), nor learn from the answer whether a key works.
        guard !origins.isCrossOrigin(request, context) else {
            return signInPage(Self.crossOrigin.message, status: .forbidden)
        }
        let presented = try await DashboardForms.SignIn.decode(request, context).key.trimmed ?? ""
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
            let token = try await sessions.start(
                keyHash: APIKeySecret.hash(of: Substring(presented)), keyID: identity.key.id,
                organizationID: identity.organization.id)
        else {
            return signInPage(
                "The dashboard has as many sessions as it can hold; try again when some have ended.",
                status: .serviceUnavailable)
        }
        var response = HTML.redirect("/dashboard")
        response.setCookie(Self.cookie(token, secure: origins.isHTTPS(request, context)))
        return response
    }

    func signOut(_ request: Request, _ context: CharterRequestContext) async throws -> Response {
        guard !origins.isCrossOrigin(request, context) else {
            return Self.failure(Self.crossOrigin, signed: nil, back: "/dashboard")
        }
        let form = try await DashboardForms.Confirm.decode(request, context)
        if let token = request.cookies[DashboardSessions.cookie]?.value,
            let session = try await sessions.session(token),
            form.carries(csrf: session.csrf)
        {
            try await sessions.end(token)
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
}
