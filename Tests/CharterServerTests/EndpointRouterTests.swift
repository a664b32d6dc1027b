import CharterCore
import CharterSQLite
import Foundation
import Hummingbird
import Testing
import UCAN

@testable import CharterServer

/// A route outside the ``Endpoint`` table cannot be registered (the router takes only its cases), and a
/// server missing one of them, or given two handlers for one, does not start.
@Suite struct EndpointRouterTests {
    static func controlPlane() throws -> ControlPlane {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("charter-\(UUID().uuidString).db")
        let store = try SQLiteStore(path: path.path)
        // Nothing is stored: the open file is enough, and unlinking it leaves nothing behind in /tmp.
        try FileManager.default.removeItem(at: path)
        return ControlPlane(store: store, masterKey: SecretBox.Key(), clock: .system)
    }

    static func router() throws -> EndpointRouter {
        let controlPlane = try controlPlane()
        let dashboard = DashboardRoutes(controlPlane: controlPlane, origins: DashboardOrigin(trustedProxies: []))
        return EndpointRouter(
            router: Router(context: CharterRequestContext.self), controlPlane: controlPlane,
            sessionAuthentication: dashboard.authentication)
    }

    @Test func theWholeTableStarts() throws {
        _ = CharterHTTPServer.router(controlPlane: try Self.controlPlane(), configuration: ServerConfiguration())
    }

    @Test func theSetUpAloneExitsCleanly() async {
        await #expect(processExitsWith: .success) {
            let routes = try EndpointRouterTests.router()
            routes.on(.healthz) { _, _ in Response(status: .ok) }
        }
    }

    @Test func aMissingEndpointStopsStartUp() async {
        await #expect(processExitsWith: .failure) {
            let routes = try EndpointRouterTests.router()
            routes.on(.healthz) { _, _ in Response(status: .ok) }
            routes.finish()
        }
    }

    @Test func aSecondHandlerStopsStartUp() async {
        await #expect(processExitsWith: .failure) {
            let routes = try EndpointRouterTests.router()
            routes.on(.healthz) { _, _ in Response(status: .ok) }
            routes.on(.healthz) { _, _ in Response(status: .ok) }
        }
    }

    @Test func anAuthenticatedEndpointCannotBeRegisteredOpen() async {
        await #expect(processExitsWith: .failure) {
            let routes = try EndpointRouterTests.router()
            routes.on(.rotateSigningKey) { _, _ in Response(status: .ok) }
        }
    }
}
