import CharterCore
import Hummingbird
import UCAN

/// `/v1/me`: the calling key and its organization.
enum MeRoutes {
    static func register(on routes: RouteRegistrar) {
        let controlPlane = routes.controlPlane
        routes.register(.me) { _, _, caller in
            let unflushed = controlPlane.usage.unflushed(keyID: caller.key.id)
            let now = controlPlane.clock.now()
            return JSONResponse.object {
                $0.object("api_key") { Representation.key(caller.key, at: now, unflushed: unflushed, into: &$0) }
                $0.object("organization") { Representation.organization(caller.organization, into: &$0) }
            }
        }
    }
}
