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
        return DashboardTemplate.envelopes.page(
            "Envelopes", session: signed,
            DashboardModels.Envelopes(envelopes, apps: apps, canWrite: identity.has(.envelopesWrite)))
    }

    func createEnvelope(
        _ form: DashboardForms.CreateEnvelope, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        func json(_ text: String?, _ field: String, _ shape: String) throws -> JSONValue? {
            guard let text = text.trimmed else { return nil }
            do {
                return try JSONParser.parse(Array(text.utf8))
            } catch {
                throw CharterError.invalid(field, "must be a JSON object of \(shape)")
            }
        }
        guard let ttl = form.maxTTLSeconds.trimmed.flatMap({ Int($0) }) else {
            throw CharterError.invalid("max_ttl_seconds", "must be a whole number of seconds")
        }
        _ = try await controlPlane.envelopes.create(
            appID: form.appID.trimmed ?? "", name: form.name.trimmed ?? "",
            capabilities: try json(form.capabilities, "capabilities", "resource → ability → caveats"),
            commands: try json(form.commands, "commands", "command → policy"),
            audiences: try json(form.audiences, "audiences", "resource URL → did:key"), maxTTLSeconds: ttl,
            by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/envelopes")
    }

    func revokeEnvelope(
        _ form: DashboardForms.Confirm, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        _ = try await controlPlane.envelopes.revoke(
            id: try context.parameters.require("id"), by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/envelopes")
    }

    func signingKeys(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws
        -> Response
    {
        let issuers = try await controlPlane.signingKeys.issuers(of: signed.identity)
        return DashboardTemplate.signingKeys.page(
            "Signing keys", session: signed,
            DashboardModels.SigningKeys(
                issuers,
                rotatable: signed.identity.has(.signingKeysRotate)
                    ? Environment.allCases.filter(signed.identity.reaches) : [],
                now: controlPlane.clock.now()))
    }

    func rotate(
        _ form: DashboardForms.RotateSigningKey, _ request: Request, _ context: CharterRequestContext, _ signed: Signed
    ) async throws -> Response {
        guard let environment = form.environment.trimmed.flatMap(Environment.init(rawValue:)) else {
            throw CharterError.invalid("environment", "must be live or test")
        }
        _ = try await controlPlane.signingKeys.rotate(environment, by: signed.identity, context: context.call)
        return HTML.redirect("/dashboard/signing-keys")
    }
}
