import CharterCore
import Hummingbird
import UCAN

/// `/v1/apps`.
enum AppRoutes {
    static func register(on routes: RouteRegistrar) {
        let apps = routes.controlPlane.apps
        routes.register(.createApp) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["name", "environment"])
            let app = try await apps.create(
                name: body.string("name"), environment: body.string("environment"), by: caller, context: context.call)
            return JSONResponse.make(Representation.app(app), status: .created)
        }
        routes.register(.listApps) { _, _, caller in
            JSONResponse.make(["apps": .array(try await apps.list(by: caller).map(Representation.app))])
        }
        routes.register(.getApp) { _, context, caller in
            JSONResponse.make(Representation.app(try await apps.get(id: context.parameters.require("id"), by: caller)))
        }
    }
}
