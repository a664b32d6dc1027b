import CharterCore
import Hummingbird
import NIOCore
import UCAN

/// `/healthz` (the process is up), `/readyz` (the store answers), `/metrics` (Prometheus text).
enum HealthRoutes {
    static func register(on router: Router<CharterRequestContext>, store: any Store, metrics: (@Sendable () -> String)?)
    {
        router.get("/healthz") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("/readyz") { _, context in
            do {
                _ = try await store.organizationCount()
                return JSONResponse.make(["status": "ready"])
            } catch {
                context.logger.warning("store not ready", metadata: ["type": "\(type(of: error))"])
                return JSONResponse.error(
                    CharterError(.unavailable, "the store is not reachable"), requestID: context.requestID)
            }
        }
        if let metrics {
            router.get("/metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: metrics())))
            }
        }
    }
}
