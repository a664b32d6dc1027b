import CharterCore
import Foundation
import Hummingbird
import UCAN

/// `/v1/keys`: issue, list, read, narrow, revoke and duplicate API keys.
enum KeyRoutes {
    private static let createFields: Set<String> = [
        "app_id", "label", "role", "permissions", "expires_at", "expires_in_days", "ip_allowlist",
        "allowed_endpoints", "rate_limit_per_minute",
    ]
    private static let updateFields: Set<String> = [
        "label", "role", "permissions", "ip_allowlist", "allowed_endpoints", "rate_limit_per_minute",
    ]

    static func register(on routes: EndpointRouter) {
        let keys = routes.controlPlane.keys
        let clock = routes.controlPlane.clock
        routes.on(.createKey) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: createFields)
            let issued = try await keys.create(
                NewKeyRequest(
                    appID: body.string("app_id"), label: body.string("label"), role: body.optionalString("role"),
                    permissions: body.optionalStrings("permissions"), expiresAt: body.optionalDate("expires_at"),
                    expiresInDays: body.optionalInteger("expires_in_days"),
                    ipAllowlist: body.optionalStrings("ip_allowlist"),
                    allowedEndpoints: body.optionalStrings("allowed_endpoints"),
                    rateLimitPerMinute: body.optionalInteger("rate_limit_per_minute")),
                by: caller, context: context.call)
            return issuedResponse(issued, at: clock.now())
        }
        routes.on(.listKeys) { request, _, caller in
            let query = request.uri.queryParameters
            let status = try query.get("status").map { text in
                guard let status = APIKey.Status(rawValue: String(text)) else {
                    throw CharterError.invalid("status", "must be active, expired or revoked")
                }
                return status
            }
            let days = try query.get("expiring_within_days").map { text in
                guard let days = Int(text) else {
                    throw CharterError.invalid("expiring_within_days", "must be an integer")
                }
                return days
            }
            let list = try await keys.list(
                appID: query.get("app_id"), status: status, expiringWithinDays: days, by: caller)
            let now = clock.now()
            return JSONResponse.object { $0.objects("keys", list) { Representation.key($0, at: now, into: &$1) } }
        }
        routes.on(.getKey) { _, context, caller in
            let key = try await keys.get(id: context.parameters.require("id"), by: caller)
            return keyResponse(key, at: clock.now())
        }
        routes.on(.updateKey) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: updateFields)
            let changes = KeyChanges(
                label: try body.optionalString("label"), role: try body.optionalString("role"),
                permissions: try body.optionalStrings("permissions"),
                ipAllowlist: try body.optionalStrings("ip_allowlist"),
                allowedEndpoints: try body.optionalStrings("allowed_endpoints"),
                rateLimitPerMinute: try body.optionalInteger("rate_limit_per_minute"))
            let key = try await keys.update(
                id: context.parameters.require("id"), changes: changes, by: caller, context: context.call)
            return keyResponse(key, at: clock.now())
        }
        routes.on(.revokeKey) { _, context, caller in
            let key = try await keys.revoke(id: context.parameters.require("id"), by: caller, context: context.call)
            return keyResponse(key, at: clock.now())
        }
        routes.on(.duplicateKey) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["label"])
            let issued = try await keys.duplicate(
                id: context.parameters.require("id"), label: body.optionalString("label"), by: caller,
                context: context.call)
            return issuedResponse(issued, at: clock.now())
        }
    }

    private static func keyResponse(_ key: APIKey, at now: Date) -> Response {
        JSONResponse.object { Representation.key(key, at: now, into: &$0) }
    }

    /// 201 with the plaintext under `key`, this once, and the record under `api_key`.
    private static func issuedResponse(_ issued: IssuedKey, at now: Date) -> Response {
        JSONResponse.object(status: .created, headers: [.cacheControl: "no-store"]) {
            $0.object("api_key") { Representation.key(issued.key, at: now, into: &$0) }
            $0.string("key", issued.plaintext)
        }
    }
}
