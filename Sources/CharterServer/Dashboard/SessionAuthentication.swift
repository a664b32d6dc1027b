import CharterCore
import Hummingbird

/// Signs in the dashboard's session endpoints: puts the session key's ``Identity`` and the session's CSRF
/// token in the request context, re-authenticating the key with every check the API applies on every page,
/// so a revoked key is signed out at once. A POST from another origin is refused before the session is
/// looked at; a request without a live session is sent to sign in. What the page throws is rendered as a
/// page with the status its API call would have.
struct SessionAuthentication: RouterMiddleware {
    typealias Context = CharterRequestContext

    let controlPlane: ControlPlane
    let sessions: DashboardSessions
    let origins: DashboardOrigin

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let back = request.method == .get ? "/dashboard" : DashboardRoutes.pageAbove(request.uri.path)
        if request.method != .get, origins.isCrossOrigin(request, context) {
            return DashboardRoutes.failure(DashboardRoutes.crossOrigin, signed: nil, back: back)
        }
        var context = context
        do {
            guard let token = request.cookies[DashboardSessions.cookie]?.value,
                let session = try await sessions.session(token)
            else { return HTML.redirect("/dashboard/sign-in") }
            do throws(AuthenticationFailure) {
                context.identity = try await controlPlane.authenticator.authenticate(
                    secretHash: session.stored.keyHash, ip: context.clientIP, path: request.uri.path)
            } catch {
                Denials.record(error.error, key: error.key, request: request, context: context, into: controlPlane)
                if error.error.code != .rateLimited { try await sessions.end(token) }
                return HTML.redirect("/dashboard/sign-in")
            }
            context.csrf = session.csrf
            return try await next(request, context)
        } catch {
            let expected = (error as? CharterError).map { $0.status != .internalServerError } ?? (error is HTTPRefusal)
            if !expected {
                context.logger.error(
                    "dashboard page failed",
                    metadata: ["type": "\(type(of: error))", "request_id": "\(context.requestID)"])
            }
            return DashboardRoutes.failure(error, signed: try? context.signed(), back: back)
        }
    }
}
