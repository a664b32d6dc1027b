import CharterCore
import Hummingbird
import UCAN

/// Registers API routes so that each one authenticates its caller and checks its permission in this single
/// place, recording every refusal in the audit trail (under the key when it could be identified).
struct RouteRegistrar {
    let router: Router<CharterRequestContext>
    let controlPlane: ControlPlane

    func register(
        _ endpoint: Endpoint,
        _ handler: @escaping @Sendable (Request, CharterRequestContext, Identity) async throws -> Response
    ) {
        let controlPlane = self.controlPlane
        let authenticator = controlPlane.authenticator
        router.on(RouterPath(endpoint.path), method: endpoint.method) {
            (request: Request, context: CharterRequestContext) async throws -> Response in
            let caller: Identity
            do throws(AuthenticationFailure) {
                caller = try await authenticator.authenticate(
                    authorization: request.headers[.authorization], ip: context.clientIP, path: request.uri.path)
            } catch {
                Denials.record(error.error, key: error.key, request: request, context: context, into: controlPlane)
                throw error.error
            }
            if let permission = endpoint.permission, !caller.has(permission) {
                let error = CharterError.denied(permission)
                Denials.record(error, key: caller.key, request: request, context: context, into: controlPlane)
                throw error
            }
            return try await handler(request, context, caller)
        }
    }
}

/// Audit records for refused requests.
enum Denials {
    /// Records a refusal: one record in the key's organization's trail when the key is known; otherwise a count
    /// in the summary of the client address's minute, since anyone can send such requests without end.
    static func record(
        _ error: CharterError, key: APIKey?, request: Request, context: CharterRequestContext,
        into controlPlane: ControlPlane
    ) {
        guard let key else {
            controlPlane.auditWriter.summarizeDenial(
                reason: error.code.rawValue, ip: context.clientIP?.description, at: controlPlane.clock.now())
            return
        }
        controlPlane.auditWriter.enqueue(
            AuditEvent(
                time: controlPlane.clock.now(), orgID: key.orgID, environment: key.environment, keyID: key.id,
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
