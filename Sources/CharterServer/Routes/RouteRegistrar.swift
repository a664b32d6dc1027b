import CharterCore
import Hummingbird
import UCAN

/// Registers API routes so that each one's permission is checked in this single place.
struct RouteRegistrar {
    let group: RouterGroup<CharterRequestContext>
    let controlPlane: ControlPlane

    func register(
        _ endpoint: Endpoint,
        _ handler: @escaping @Sendable (Request, CharterRequestContext, Identity) async throws -> Response
    ) {
        let controlPlane = self.controlPlane
        let path = RouterPath(String(endpoint.path.dropFirst("/v1/".count)))
        group.on(path, method: endpoint.method) { request, context in
            let caller = try context.caller()
            if let permission = endpoint.permission, !caller.has(permission) {
                let error = CharterError.denied(permission)
                Denials.record(error, key: caller.key, request: request, context: context, into: controlPlane)
                throw error
            }
            return try await handler(request, context, caller)
        }
    }
}
