import CharterCore
import Foundation
import Hummingbird
import UCAN

/// `/v1/envelopes`, `/v1/authorize`, `/v1/tokens/{cid}/revoke` and `/v1/signing-keys/rotate`.
enum TokenRoutes {
    static func register(on routes: EndpointRouter) {
        let controlPlane = routes.controlPlane
        let envelopes = controlPlane.envelopes
        routes.on(.createEnvelope) { request, context, caller in
            let body = try await JSONBody.read(
                request, allowed: ["app_id", "name", "capabilities", "commands", "audiences", "max_ttl_seconds"])
            guard let maxTTL = try body.optionalInteger("max_ttl_seconds") else {
                throw CharterError.invalid("max_ttl_seconds", "is required")
            }
            let envelope = try await envelopes.create(
                appID: body.string("app_id"), name: body.string("name"),
                capabilities: body.optionalValue("capabilities"), commands: body.optionalValue("commands"),
                audiences: body.optionalValue("audiences"), maxTTLSeconds: maxTTL, by: caller, context: context.call)
            return JSONResponse.object(status: .created) { Representation.envelope(envelope, into: &$0) }
        }
        routes.on(.listEnvelopes) { request, _, caller in
            let list = try await envelopes.list(appID: request.uri.queryParameters.get("app_id"), by: caller)
            return JSONResponse.object { $0.objects("envelopes", list) { Representation.envelope($0, into: &$1) } }
        }
        routes.on(.getEnvelope) { _, context, caller in
            let envelope = try await envelopes.get(id: context.parameters.require("id"), by: caller)
            return JSONResponse.object { Representation.envelope(envelope, into: &$0) }
        }
        routes.on(.revokeEnvelope) { _, context, caller in
            let envelope = try await envelopes.revoke(
                id: context.parameters.require("id"), by: caller, context: context.call)
            return JSONResponse.object { Representation.envelope(envelope, into: &$0) }
        }

        let tokens = controlPlane.tokens
        routes.on(.authorize) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: TokenFormat.fields)
            let format = try TokenFormat(body.optionalString("format"))
            try format.refuseOthersFields(in: body)
            let (token, cid, issuer, envelope, expiresAt): (String, CID, DID, Envelope, Date)
            switch format {
            case .ucan010:
                let minted = try await tokens.authorize(
                    AuthorizeRequest(
                        audience: body.string("audience"), capabilities: body.value("capabilities"),
                        ttlSeconds: body.optionalInteger("ttl_seconds"),
                        envelopeID: body.optionalString("envelope_id"), facts: body.optionalObject("facts")),
                    by: caller, context: context.call)
                (token, cid, issuer) = (minted.token.encoded, minted.cid, minted.token.payload.issuer)
                (envelope, expiresAt) = (minted.envelope, minted.expiresAt)
            case .ucan1:
                let minted = try await tokens.delegate(
                    DelegationRequest(
                        audience: body.string("audience"), command: body.string("command"),
                        policy: body.optionalValue("policy"), ttlSeconds: body.optionalInteger("ttl_seconds"),
                        envelopeID: body.optionalString("envelope_id"), meta: body.optionalObject("meta")),
                    by: caller, context: context.call)
                (token, cid, issuer) = (
                    Data(minted.delegation.bytes).base64EncodedString(), minted.cid, minted.delegation.issuer
                )
                (envelope, expiresAt) = (minted.envelope, minted.expiresAt)
            }
            // The token is a bearer credential: no cache may keep it.
            return JSONResponse.object(headers: [.cacheControl: "no-store"]) {
                $0.string("cid", cid.string)
                $0.string("envelope_id", envelope.id)
                $0.time("expires_at", expiresAt)
                $0.string("format", format.rawValue)
                $0.string("issuer", issuer.string)
                $0.string("token", token)
            }
        }
        routes.on(.revokeToken) { _, context, caller in
            let token = try await tokens.revoke(
                cid: context.parameters.require("cid"), by: caller, context: context.call)
            return JSONResponse.object { Representation.token(token, into: &$0) }
        }

        let signingKeys = controlPlane.signingKeys
        let clock = controlPlane.clock
        routes.on(.rotateSigningKey) { request, context, caller in
            let body = try await JSONBody.read(request, allowed: ["environment"])
            guard let environment = Environment(rawValue: try body.string("environment")) else {
                throw CharterError.invalid("environment", "must be live or test")
            }
            let rotated = try await signingKeys.rotate(environment, by: caller, context: context.call)
            let now = clock.now()
            return JSONResponse.object {
                $0.object("active") { Representation.issuer(rotated.active, at: now, into: &$0) }
                if let retired = rotated.retired {
                    $0.object("retired") { Representation.issuer(retired, at: now, into: &$0) }
                } else {
                    $0.value("retired", .null)
                }
            }
        }
    }
}

/// `/v1/issuers` and `/v1/revocations`: public, so verifiers need no key to stay in sync.
enum PublicationRoutes {
    static let maxPage = 1000

    static func register(on routes: EndpointRouter) {
        let controlPlane = routes.controlPlane
        let signingKeys = controlPlane.signingKeys
        let tokens = controlPlane.tokens
        let clock = controlPlane.clock
        routes.on(.issuers) { _, _ in
            let issuers = try await signingKeys.issuers()
            let now = clock.now()
            return JSONResponse.object {
                $0.objects("issuers", issuers) { Representation.issuer($0, at: now, into: &$1) }
            }
        }
        routes.on(.revocations) { request, context in
            let query = request.uri.queryParameters
            guard let orgID = query.get("org"), !orgID.isEmpty else {
                throw CharterError.invalid("org", "is required: the organization whose feed to read")
            }
            guard let environment = query.get("environment").flatMap(Environment.init(rawValue:)) else {
                throw CharterError.invalid("environment", "is required: live or test")
            }
            let since: Int64 =
                try query.get("since").map { text in
                    guard let value = Int64(text), value >= 0 else {
                        throw CharterError.invalid("since", "must be a sequence number from this feed")
                    }
                    return value
                } ?? 0
            let limit =
                try query.get("limit").map { text in
                    guard let value = Int(text), (1...maxPage).contains(value) else {
                        throw CharterError.invalid("limit", "must be 1...\(maxPage)")
                    }
                    return value
                } ?? maxPage
            let page = try await tokens.feed(
                orgID: orgID, environment: environment, after: since, limit: limit, context: context.call
            ) { .array($0.map(Representation.revocation)) }
            return JSONResponse.object {
                $0.value("head", .object(page.head))
                $0.integer("next_since", page.nextSince)
                $0.value("revocations", page.listed)
            }
        }
    }
}
