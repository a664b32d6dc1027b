public import CharterCore
public import Hummingbird
import HummingbirdCore
public import Logging
import ServiceLifecycle

/// Builds Charter's HTTP application: middleware, the API under `/v1`, the dashboard, and health endpoints.
public enum CharterHTTPServer {
    /// The router alone, for tests and benchmarks that drive it directly.
    public static func router(
        controlPlane: ControlPlane, configuration: ServerConfiguration, metrics: (@Sendable () -> String)? = nil
    ) -> Router<CharterRequestContext> {
        let router = Router(context: CharterRequestContext.self)
        router.add(middleware: RequestMiddleware(trustedProxies: configuration.trustedProxies))
        let dashboard = DashboardRoutes(
            controlPlane: controlPlane, origins: DashboardOrigin(trustedProxies: configuration.trustedProxies))
        let routes = EndpointRouter(
            router: router, controlPlane: controlPlane, sessionAuthentication: dashboard.authentication)
        HealthRoutes.register(on: routes, metrics: metrics)
        PublicationRoutes.register(on: routes)
        AppRoutes.register(on: routes)
        KeyRoutes.register(on: routes)
        MeRoutes.register(on: routes)
        AuditRoutes.register(on: routes)
        TokenRoutes.register(on: routes)
        OAuthRoutes.register(
            on: routes,
            issuer: OAuthIssuer(
                publicURL: configuration.publicURL,
                origin: DashboardOrigin(trustedProxies: configuration.trustedProxies)))
        dashboard.register(on: routes)
        routes.finish()
        return router
    }

    /// The application, with the background flusher running beside it and stopping after it. The store's own
    /// services (see ``StoreBackend``) are the caller's to run, before the application starts and until it
    /// has stopped.
    public static func application(
        controlPlane: ControlPlane, configuration: ServerConfiguration, metrics: (@Sendable () -> String)? = nil,
        logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let flusher = BackgroundFlusher(
            controlPlane: controlPlane, interval: configuration.flushInterval, logger: logger)
        return Application(
            router: router(controlPlane: controlPlane, configuration: configuration, metrics: metrics),
            server: .http1(
                configuration: HTTP1Channel.Configuration(
                    additionalChannelHandlers: [
                        RequestDeadline(head: configuration.requestHeadTimeout, body: configuration.requestBodyTimeout)
                    ], idleTimeout: configuration.idleTimeout)),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "charter"),
            services: [flusher],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}
