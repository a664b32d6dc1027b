import CharterCore
import Hummingbird

/// The only way a route gets a handler: by its ``Endpoint``, behind the authentication its access names, with
/// its action authorized here, once, for the API and the dashboard alike. Every refusal is audited (under
/// the key when it could be identified). ``finish()`` stops the server from starting unless every endpoint
/// has exactly one handler.
final class EndpointRouter {
    typealias Handler = @Sendable (Request, CharterRequestContext) async throws -> Response
    typealias CallerHandler = @Sendable (Request, CharterRequestContext, Identity) async throws -> Response

    let controlPlane: ControlPlane
    private let router: Router<CharterRequestContext>
    private let keyAuthenticated: RouterGroup<CharterRequestContext>
    private let sessionAuthenticated: RouterGroup<CharterRequestContext>
    private var registered: Set<Endpoint> = []

    init(
        router: Router<CharterRequestContext>, controlPlane: ControlPlane, sessionAuthentication: SessionAuthentication
    ) {
        self.router = router
        self.controlPlane = controlPlane
        keyAuthenticated = router.group().add(middleware: KeyAuthentication(controlPlane: controlPlane))
        sessionAuthenticated = router.group().add(middleware: sessionAuthentication)
    }

    /// Registers the handler of an endpoint anyone may call, or one whose handler authenticates its caller's
    /// client credentials and then authorizes it with ``authorize(_:_:request:context:controlPlane:)``.
    func on(_ endpoint: Endpoint, _ handler: @escaping Handler) {
        switch endpoint.access {
        case .open, .clientCredentials: break
        case .apiKey, .session: preconditionFailure("\(endpoint) needs a caller; register it with one")
        }
        record(endpoint)
        router.on(RouterPath(endpoint.path), method: endpoint.method, use: handler)
    }

    /// Registers the handler of an endpoint for authenticated callers allowed its action; the handler gets
    /// the caller.
    func on(_ endpoint: Endpoint, _ handler: @escaping CallerHandler) {
        let group: RouterGroup<CharterRequestContext>
        let action: Action
        switch endpoint.access {
        case .open, .clientCredentials:
            preconditionFailure("\(endpoint) authenticates its own caller; register it without one")
        case .apiKey(let required): (group, action) = (keyAuthenticated, required)
        case .session(let required): (group, action) = (sessionAuthenticated, required)
        }
        record(endpoint)
        let controlPlane = self.controlPlane
        group.on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
            // Set by the group's authentication middleware, which refuses the request before this otherwise.
            guard let caller = context.identity else { throw CharterError(.internalError, "internal error") }
            try Self.authorize(caller, action, request: request, context: context, controlPlane: controlPlane)
            return try await handler(request, context, caller)
        }
    }

    /// Lets `caller` perform `action`, or audits the refusal and throws it.
    static func authorize(
        _ caller: Identity, _ action: Action, request: Request, context: CharterRequestContext,
        controlPlane: ControlPlane
    ) throws(CharterError) {
        do throws(CharterError) {
            try caller.authorize(action)
        } catch {
            Denials.record(error, key: caller.key, request: request, context: context, into: controlPlane)
            throw error
        }
    }

    /// Stops start-up unless every endpoint has a handler.
    func finish() {
        let missing = Set(Endpoint.allCases).subtracting(registered)
        precondition(missing.isEmpty, "endpoints without a handler: \(missing.map(\.description).sorted())")
    }

    private func record(_ endpoint: Endpoint) {
        precondition(registered.insert(endpoint).inserted, "\(endpoint) has two handlers")
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
