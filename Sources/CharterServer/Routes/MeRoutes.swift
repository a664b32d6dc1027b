import CharterCore
import Hummingbird
import UCAN

/// `/v1/me`: the calling key and its organization.
enum MeRoutes {
    static func register(on routes: RouteRegistrar) {
        let controlPlane = routes.controlPlane
        routes.register(.me) { _, _, caller in
            let key = controlPlane.usage.current(caller.key)
            return JSONResponse.make([
                "api_key": Representation.key(key, at: controlPlane.clock.now()),
                "organization": Representation.organization(caller.organization),
            ])
        }
    }
}
