import CharterCore
import Hummingbird
import UCAN

/// `/v1/apps`.
enum AppRoutes {
    static func register(on routes: EndpointRouter) {
        let apps = routes.controlPlane.apps
        routes.on(.createApp) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["name", "environment"])
            let app = try await apps.create(
                name: body.string("name"), environment: body.string("environment"), by: caller, context: context.call)
            return JSONResponse.object(status: .created) { Representation.app(app, into: &$0) }
        }
        routes.on(.listApps) { _, _, caller in
            let list = try await apps.list(by: caller)
            return JSONResponse.object { $0.objects("apps", list) { Representation.app($0, into: &$1) } }
        }
        routes.on(.getApp) { _, context, caller in
            let app = try await apps.get(id: context.parameters.require("id"), by: caller)
            return JSONResponse.object { Representation.app(app, into: &$0) }
        }
    }
}
