import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// The envelopes and signing-keys pages.
extension DashboardRoutes {
    func envelopes(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws
        -> Response
    {
        let identity = signed.identity
        let envelopes = try await controlPlane.envelopes.list(appID: nil, by: identity)
        let apps = identity.has(.appsRead) ? try await controlPlane.apps.list(by: identity) : []
        return HTML.response(
            HTML.page(
                "Envelopes", session: signed,
                DashboardPages.envelopes(envelopes, apps: apps, signed: signed, now: controlPlane.clock.now())))
    }

    func createEnvelope(
        _ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        let capabilities: JSONValue
        do {
            capabilities = try JSONParser.parse(Array((form["capabilities"] ?? "").utf8))
        } catch {
            throw CharterError.invalid("capabilities", "must be a JSON object of resource → ability → caveats")
        }
        guard let ttl = form["max_ttl_seconds"].flatMap({ Int($0) }) else {
            throw CharterError.invalid("max_ttl_seconds", "must be a whole number of seconds")
        }
        _ = try await controlPlane.envelopes.create(
            appID: form["app_id"] ?? "", name: form["name"] ?? "", capabilities: capabilities, maxTTLSeconds: ttl,
            by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/envelopes")
    }

    func revokeEnvelope(
        _ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        _ = try await controlPlane.envelopes.revoke(
            id: try context.parameters.require("id"), by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/envelopes")
    }

    func signingKeys(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws
        -> Response
    {
        let issuers = try await controlPlane.signingKeys.issuers(of: signed.identity)
        return HTML.response(
            HTML.page(
                "Signing keys", session: signed,
                DashboardPages.signingKeys(issuers, signed: signed, now: controlPlane.clock.now())))
    }

    func rotate(_ form: FormData, _ request: Request, _ context: CharterRequestContext, _ signed: Signed)
        async throws -> Response
    {
        guard let environment = form["environment"].flatMap(Environment.init(rawValue:)) else {
            throw CharterError.invalid("environment", "must be live or test")
        }
        _ = try await controlPlane.signingKeys.rotate(environment, by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/signing-keys")
    }
}
