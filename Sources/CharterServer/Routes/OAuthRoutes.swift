import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UCAN

/// Charter as an OAuth 2.0 authorization server for machine clients: `/oauth2/token` (RFC 6749 §4.4 client
/// credentials, RFC 8707 resource indicators), its metadata (RFC 8414) and the issuers' keys as a JWKS
/// (RFC 7517, RFC 8037), so standard OAuth and MCP clients get Charter tokens and standard JWT libraries check
/// them.
enum OAuthRoutes {
    /// The largest token request read; a client-credentials form is a few hundred bytes.
    static let maxBody = 8 * 1024

    static func register(on routes: EndpointRouter, issuer: OAuthIssuer) {
        let controlPlane = routes.controlPlane
        routes.on(.oauthToken) { request, context in
            do {
                return try await token(request, context: context, controlPlane: controlPlane)
            } catch let error as OAuthError {
                return error.response
            } catch let error as CharterError {
                return OAuthError(error).response
            } catch {
                context.logger.error("oauth2/token failed", metadata: ["type": "\(type(of: error))"])
                return OAuthError(.serverError, "internal error").response
            }
        }
        // Machine clients only: no user ever authorizes here. The endpoint exists because some clients (the MCP
        // SDK's among them) refuse metadata without one; it never redirects, since no client registered a URI.
        routes.on(.oauthAuthorize) { _, _ in
            OAuthError(
                .unsupportedResponseType,
                "Charter issues tokens to machine clients only: use the client_credentials grant at the token endpoint"
            ).response
        }
        routes.on(.oauthMetadata) { request, context in
            let base = issuer.url(for: request, context: context)
            return JSONResponse.object {
                $0.string("authorization_endpoint", base + Endpoint.oauthAuthorize.path)
                $0.strings("grant_types_supported", ["client_credentials"])
                $0.string("issuer", base)
                $0.string("jwks_uri", base + Endpoint.jwks.path)
                // Machine clients only: the authorization endpoint refuses every response type.
                $0.strings("response_types_supported", [])
                $0.strings("token_endpoint_auth_methods_supported", ["client_secret_basic", "client_secret_post"])
                $0.string("token_endpoint", base + Endpoint.oauthToken.path)
            }
        }
        let signingKeys = controlPlane.signingKeys
        let clock = controlPlane.clock
        routes.on(.jwks) { _, _ in
            let issuers = try await signingKeys.issuers()
            let now = clock.now()
            return JSONResponse.object {
                $0.objects("keys", issuers) { issuer, key in
                    key.string("alg", "EdDSA")
                    key.string("crv", "Ed25519")
                    Representation.issuer(issuer, at: now, into: &key)
                    // The token's header names no key: a JWT library picks the key whose kid is the token's iss.
                    key.string("kid", issuer.did.string)
                    key.string("kty", "OKP")
                    key.string("use", "sig")
                    key.string("x", Base64URL.encode(issuer.did.publicKey.bytes))
                }
            }
        }
    }

    /// Answers a client-credentials request; every refusal is an ``OAuthError`` or a ``CharterError``.
    private static func token(_ request: Request, context: CharterRequestContext, controlPlane: ControlPlane)
        async throws -> Response
    {
        guard
            let type = request.headers[.contentType]?.split(separator: ";").first?
                .trimmingCharacters(in: .whitespaces).lowercased(),
            type == "application/x-www-form-urlencoded"
        else {
            throw OAuthError(.invalidRequest, "send the request as application/x-www-form-urlencoded")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBody)
        } catch {
            throw OAuthError(.invalidRequest, "the request body is over \(maxBody / 1024) KiB")
        }
        let form = try TokenForm(String(buffer: body))
        let client = try ClientCredentials(authorization: request.headers[.authorization], form: form)
        guard let grantType = form["grant_type"] else { throw OAuthError(.invalidRequest, "grant_type is required") }
        guard grantType == "client_credentials" else {
            throw OAuthError(.unsupportedGrantType, "only the client_credentials grant is supported")
        }
        let scopes = try TokenForm.scopes(form["scope"])
        let resource = try form.resource()

        let caller: Identity
        do {
            caller = try await controlPlane.authenticator.authenticate(
                authorization: "Bearer " + client.secret, ip: context.clientIP, path: request.uri.path)
        } catch {
            Denials.record(error.error, key: error.key, request: request, context: context, into: controlPlane)
            throw OAuthError(authenticating: error.error)
        }
        guard caller.key.id == client.id else {
            let refused = CharterError(.apiKeyInvalid, "client_id is not the id of the key in client_secret")
            Denials.record(refused, key: caller.key, request: request, context: context, into: controlPlane)
            throw OAuthError(authenticating: refused)
        }
        try EndpointRouter.authorize(caller, .authorize, request: request, context: context, controlPlane: controlPlane)

        let grant = try await controlPlane.tokens.authorize(
            ClientCredentialsRequest(scopes: scopes, resource: resource), by: caller, context: context.call)
        let expiresIn = Int64(grant.authorized.expiresAt.timeIntervalSince(controlPlane.clock.now()).rounded(.down))
        return JSONResponse.object(headers: OAuthError.noStore) {
            $0.string("access_token", grant.authorized.token.encoded)
            $0.integer("expires_in", max(0, expiresIn))
            $0.string("scope", grant.scopes.joined(separator: " "))
            $0.string("token_type", "Bearer")
        }
    }
}

/// The authorization server's issuer identifier (RFC 8414 §2): the configured public URL, else the URL the
/// request reached this server at (`https` when TLS ended here or at a trusted proxy).
struct OAuthIssuer: Sendable {
    let publicURL: String?
    let origin: DashboardOrigin

    func url(for request: Request, context: CharterRequestContext) -> String {
        if let publicURL { return publicURL }
        let scheme = origin.isHTTPS(request, context) ? "https" : "http"
        return "\(scheme)://\(request.head.authority ?? "localhost")"
    }
}

/// A token request's form: each parameter once (RFC 6749 §3.2), a parameter without a value as if omitted.
struct TokenForm {
    private var parameters: [String: String] = [:]
    private var repeated: Set<String> = []

    /// - Throws: ``OAuthError`` `invalid_request` for a repeated parameter (other than `resource`, whose repeats
    ///   are `invalid_target`) or one that is not percent-encoded UTF-8.
    init(_ body: String) throws(OAuthError) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw OAuthError(.invalidRequest, "the form is not percent-encoded UTF-8")
            }
            guard parameters.updateValue(value, forKey: name) == nil else {
                guard name == "resource" else { throw OAuthError(.invalidRequest, "\(name.prefix(64)) is repeated") }
                repeated.insert(name)
                continue
            }
        }
        parameters = parameters.filter { !$0.value.isEmpty }
    }

    subscript(name: String) -> String? { parameters[name] }

    /// RFC 8707 `resource`: one absolute URI without a fragment, a `did:key` or an `http(s)` URL.
    func resource() throws(OAuthError) -> String? {
        guard !repeated.contains("resource") else {
            throw OAuthError(.invalidTarget, "ask for one resource per token: its aud names one service")
        }
        guard let resource = self["resource"] else { return nil }
        guard resource.hasPrefix("did:") || Audiences.isResourceURL(resource) else {
            throw OAuthError(.invalidTarget, "resource must be a did:key or an absolute http(s) URL without a fragment")
        }
        return resource
    }

    /// `scope`'s abilities (RFC 6749 §3.3: space-separated tokens of printable ASCII other than `"` and `\`).
    static func scopes(_ scope: String?) throws(OAuthError) -> [String] {
        guard let scope else { return [] }
        let tokens = scope.split(separator: " ", omittingEmptySubsequences: false)
        guard tokens.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isScopeCharacter) }) else {
            throw OAuthError(.invalidScope, "scope is a space-separated list of abilities such as email/send")
        }
        return tokens.map(String.init)
    }

    private static func isScopeCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (0x23...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
    }

    /// `application/x-www-form-urlencoded` decoding: `+` is a space, then percent-decoding.
    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// The client's id and secret: from HTTP Basic (`client_secret_basic`, each part form-encoded as RFC 6749
/// §2.3.1 says) or from the form (`client_secret_post`), never both.
struct ClientCredentials {
    let id: String
    let secret: String

    init(authorization: String?, form: TokenForm) throws(OAuthError) {
        if let authorization {
            guard authorization.count > 6, authorization.prefix(6).lowercased() == "basic ",
                let decoded = Data(
                    base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8),
                let colon = text.firstIndex(of: ":"),
                let id = TokenForm.decode(text[..<colon]),
                let secret = TokenForm.decode(text[text.index(after: colon)...])
            else {
                throw OAuthError(
                    .invalidClient, "authenticate with HTTP Basic (client_id:client_secret) or in the form")
            }
            guard form["client_secret"] == nil else {
                throw OAuthError(.invalidRequest, "use one way of client authentication: HTTP Basic or the form")
            }
            if let formID = form["client_id"], formID != id {
                throw OAuthError(.invalidRequest, "client_id in the form is not the one in the Authorization header")
            }
            (self.id, self.secret) = (id, secret)
            return
        }
        guard let id = form["client_id"], let secret = form["client_secret"] else {
            throw OAuthError(
                .invalidClient,
                "client authentication is required: client_id and client_secret, by HTTP Basic or "
                    + "in the form")
        }
        (self.id, self.secret) = (id, secret)
    }
}

/// An error response of RFC 6749 §5.2: `{"error","error_description"}`, never cached.
struct OAuthError: Error {
    enum Code: String {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
        /// RFC 8707 §2: the resource is unknown or not one the client may ask for.
        case invalidTarget = "invalid_target"
        /// RFC 6749 §4.1.2.1, from the authorization endpoint: there is no response type to ask for.
        case unsupportedResponseType = "unsupported_response_type"
        /// Over a rate limit (429) or the store is unavailable (503), as a client should retry.
        case temporarilyUnavailable = "temporarily_unavailable"
        case serverError = "server_error"
    }

    let code: Code
    let description: String
    var retryAfter: Int?
    var status: HTTPResponse.Status = .badRequest

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
        status =
            switch code {
            case .invalidClient: .unauthorized
            case .temporarilyUnavailable: .serviceUnavailable
            case .serverError: .internalServerError
            default: .badRequest
            }
    }

    /// A refused client authentication: `invalid_client`, unless the key is known and good but may not call this
    /// endpoint (`unauthorized_client`), or the refusal is a rate limit or an outage.
    init(authenticating error: CharterError) {
        switch error.code {
        case .rateLimited, .unavailable, .permissionDenied: self.init(error)
        default: self.init(.invalidClient, error.message)
        }
    }

    /// A refusal of the control plane as the OAuth error a client understands.
    init(_ error: CharterError) {
        switch error.code {
        case .apiKeyMissing, .apiKeyMalformed, .apiKeyInvalid, .apiKeyRevoked, .apiKeyExpired, .ipNotAllowed:
            self.init(.invalidClient, error.message)
        case .permissionDenied: self.init(.unauthorizedClient, error.message)
        case .capabilityNotInEnvelope, .commandNotInEnvelope, .noActiveEnvelope, .envelopeRevoked:
            self.init(.invalidScope, error.message)
        case .invalidAudience: self.init(.invalidTarget, error.message)
        case .rateLimited:
            self.init(.temporarilyUnavailable, error.message)
            status = .tooManyRequests
            retryAfter = error.retryAfter
        case .unavailable:
            self.init(.temporarilyUnavailable, error.message)
            retryAfter = error.retryAfter
        case .internalError: self.init(.serverError, "internal error")
        case .validationFailed, .ttlTooLong, .notFound, .conflict:
            self.init(error.field == "scope" ? .invalidScope : .invalidRequest, error.message)
        }
    }

    /// A token response may be kept by no cache (RFC 6749 §5.1).
    static let noStore: HTTPFields = [.cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache"]

    var response: Response {
        var headers = Self.noStore
        if code == .invalidClient { headers[.wwwAuthenticate] = #"Basic realm="charter""# }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return JSONResponse.object(status: status, headers: headers) {
            $0.string("error", code.rawValue)
            // RFC 6749 §5.2 allows printable ASCII other than `"` and `\\` here.
            $0.string(
                "error_description",
                String(
                    decoding: description.utf8.map {
                        $0 == 0x22 || $0 == 0x5C || !(0x20...0x7E).contains($0) ? 0x3F : $0
                    },
                    as: UTF8.self))
        }
    }
}
