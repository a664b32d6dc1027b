import CharterCore
import Hummingbird
import UCAN

/// Authenticates `/v1` requests by API key and records every refusal in the audit trail,
/// under the key when it could be identified.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CharterRequestContext

    let controlPlane: ControlPlane

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        do {
            context.identity = try await controlPlane.authenticator.authenticate(
                authorization: request.headers[.authorization], ip: context.clientIP, path: request.uri.path)
        } catch {
            Denials.record(error.error, key: error.key, request: request, context: context, into: controlPlane)
            throw error.error
        }
        return try await next(request, context)
    }
}

/// Audit records for refused requests.
enum Denials {
    static func record(
        _ error: CharterError, key: APIKey?, request: Request, context: CharterRequestContext,
        into controlPlane: ControlPlane
    ) {
        controlPlane.auditWriter.enqueue(
            AuditEvent(
                time: controlPlane.clock.now(), orgID: key?.orgID, environment: key?.environment, keyID: key?.id,
                // A store outage is Charter's failure, not a refusal of the caller.
                action: "request.denied", target: nil, outcome: error.code == .unavailable ? .failure : .denied,
                reason: error.code.rawValue,
                ip: context.clientIP?.description, requestID: context.requestID,
                details: [
                    "method": .string(request.method.rawValue),
                    "path": .string(String(request.uri.path.prefix(200))),
                    "message": .string(error.message),
                ]))
    }
}
