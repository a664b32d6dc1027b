import CharterCore
import Hummingbird

/// Authenticates the API key in `Authorization: Bearer` and puts the caller's ``Identity`` in the request
/// context, as hummingbird-auth's authenticators do; a request without a usable key is refused here, audited,
/// and goes no further.
struct KeyAuthentication: RouterMiddleware {
    typealias Context = CharterRequestContext

    let controlPlane: ControlPlane

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        do throws(AuthenticationFailure) {
            context.identity = try await controlPlane.authenticator.authenticate(
                authorization: request.headers[.authorization], ip: context.clientIP, path: request.uri.path)
        } catch {
            Denials.record(error.error, key: error.key, request: request, context: context, into: controlPlane)
            throw error.error
        }
        return try await next(request, context)
    }
}
