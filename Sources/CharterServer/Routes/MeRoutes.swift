import CharterCore
import Hummingbird
import UCAN

/// `/v1/me`: the calling key and its organization.
enum MeRoutes {
    static func register(on routes: EndpointRouter) {
        let controlPlane = routes.controlPlane
        routes.on(.me) { _, _, caller in
            // The record is rendered once per cached identity; only its live members are written per request.
            let template = caller.memoized(Representation.me)
            let unflushed = caller.usage.unflushed
            let now = controlPlane.clock.now()
            return JSONResponse.make(
                bytes: template.filled { index, bytes in
                    Representation.LiveKeyMember(rawValue: index)!
                        .write(caller.key, at: now, unflushed: unflushed, into: &bytes)
                })
        }
    }
}
