import CharterCore
import Hummingbird
import NIOCore
import UCAN

/// `/healthz` (the process is up), `/readyz` (the store answers), `/metrics` (Prometheus text).
enum HealthRoutes {
    static func register(on routes: EndpointRouter, metrics: (@Sendable () -> String)?) {
        let store = routes.controlPlane.store
        routes.on(.healthz) { _, _ in JSONResponse.make(["status": "ok"]) }
        routes.on(.readyz) { request, context in
            do {
                _ = try await store.organizationCount()
                return JSONResponse.make(["status": "ready"])
            } catch {
                context.logger.warning("store not ready", metadata: ["type": "\(type(of: error))"])
                return CharterError(.unavailable, "the store is not reachable").response(
                    from: request, context: context)
            }
        }
        routes.on(.metrics) { _, _ in
            guard let metrics else { throw CharterError(.notFound, "metrics are not enabled on this server") }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics())))
        }
    }
}
