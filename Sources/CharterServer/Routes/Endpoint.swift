public import CharterCore
public import HTTPTypes

/// Every route the server answers and how its caller gets in: the one table the router registers from, the
/// role × route tests enumerate and the OpenAPI test checks. A handler can only be registered for a case
/// of this enum (``EndpointRouter``), and the server does not start unless every case has exactly one.
public enum Endpoint: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // The API, for API keys.
    case createApp, listApps, getApp
    case createKey, listKeys, getKey, updateKey, revokeKey, duplicateKey
    case me, audit, auditExport
    case createEnvelope, listEnvelopes, getEnvelope, revokeEnvelope
    case authorize, revokeToken, rotateSigningKey
    // OAuth 2.0 for machine clients: the token endpoint, for API keys as client credentials.
    case oauthToken
    // What offline verifiers and OAuth clients read, for anyone.
    case issuers, revocations, oauthMetadata, jwks, oauthAuthorize
    // Health, for operators.
    case healthz, readyz, metrics
    // The dashboard, for signed-in sessions (signing in, and the assets, for anyone).
    case dashboardHome, dashboardSignInPage, dashboardSignIn, dashboardSignOut
    case dashboardApps, dashboardCreateApp, dashboardApp, dashboardCreateKey, dashboardRevokeKey
    case dashboardDuplicateKey, dashboardEnvelopes, dashboardCreateEnvelope, dashboardRevokeEnvelope
    case dashboardSigningKeys, dashboardRotateSigningKey, dashboardAudit, dashboardStylesheet, dashboardScript

    /// Who may call an endpoint.
    public enum Access: Sendable, Hashable {
        /// Anyone.
        case open
        /// An API key allowed to perform the action.
        case apiKey(Action)
        /// A dashboard session whose key is allowed to perform the action.
        case session(Action)
        /// An API key presented as OAuth 2.0 client credentials (RFC 6749 §2.3), allowed to perform the action.
        /// The handler authenticates it, since the credentials may be in the body, and answers refusals as
        /// OAuth errors.
        case clientCredentials(Action)
    }

    public var method: HTTPRequest.Method { definition.method }
    /// The path with `:name` placeholders.
    public var path: String { definition.path }
    public var access: Access { definition.access }

    /// The action the caller must be allowed; nil for open endpoints.
    public var action: Action? {
        switch access {
        case .open: nil
        case .apiKey(let action), .session(let action), .clientCredentials(let action): action
        }
    }

    /// What the caller's key must hold; nil for open endpoints and those any key may call.
    public var permission: Permission? { action?.permission }

    public var description: String { "\(method) \(path)" }

    private var definition: (method: HTTPRequest.Method, path: String, access: Access) {
        switch self {
        case .createApp: (.post, "/v1/apps", .apiKey(.createApp))
        case .listApps: (.get, "/v1/apps", .apiKey(.listApps))
        case .getApp: (.get, "/v1/apps/:id", .apiKey(.readApp))
        case .createKey: (.post, "/v1/keys", .apiKey(.createKey))
        case .listKeys: (.get, "/v1/keys", .apiKey(.listKeys))
        case .getKey: (.get, "/v1/keys/:id", .apiKey(.readKey))
        case .updateKey: (.patch, "/v1/keys/:id", .apiKey(.updateKey))
        case .revokeKey: (.post, "/v1/keys/:id/revoke", .apiKey(.revokeKey))
        case .duplicateKey: (.post, "/v1/keys/:id/duplicate", .apiKey(.duplicateKey))
        case .me: (.get, "/v1/me", .apiKey(.readSelf))
        case .audit: (.get, "/v1/audit", .apiKey(.readAudit))
        case .auditExport: (.get, "/v1/audit/export", .apiKey(.readAudit))
        case .createEnvelope: (.post, "/v1/envelopes", .apiKey(.createEnvelope))
        case .listEnvelopes: (.get, "/v1/envelopes", .apiKey(.listEnvelopes))
        case .getEnvelope: (.get, "/v1/envelopes/:id", .apiKey(.readEnvelope))
        case .revokeEnvelope: (.post, "/v1/envelopes/:id/revoke", .apiKey(.revokeEnvelope))
        case .authorize: (.post, "/v1/authorize", .apiKey(.authorize))
        case .revokeToken: (.post, "/v1/tokens/:cid/revoke", .apiKey(.revokeToken))
        case .rotateSigningKey: (.post, "/v1/signing-keys/rotate", .apiKey(.rotateSigningKey))

        case .issuers: (.get, "/v1/issuers", .open)
        case .revocations: (.get, "/v1/revocations", .open)
        case .oauthMetadata: (.get, "/.well-known/oauth-authorization-server", .open)
        case .jwks: (.get, "/.well-known/jwks.json", .open)
        case .oauthAuthorize: (.get, "/oauth2/authorize", .open)

        case .oauthToken: (.post, "/oauth2/token", .clientCredentials(.authorize))

        case .healthz: (.get, "/healthz", .open)
        case .readyz: (.get, "/readyz", .open)
        case .metrics: (.get, "/metrics", .open)

        case .dashboardHome: (.get, "/dashboard", .session(.readSelf))
        case .dashboardSignInPage: (.get, "/dashboard/sign-in", .open)
        case .dashboardSignIn: (.post, "/dashboard/sign-in", .open)
        // Open, so that a session whose key was revoked can still end; it checks the session's CSRF token.
        case .dashboardSignOut: (.post, "/dashboard/sign-out", .open)
        case .dashboardApps: (.get, "/dashboard/apps", .session(.listApps))
        case .dashboardCreateApp: (.post, "/dashboard/apps", .session(.createApp))
        case .dashboardApp: (.get, "/dashboard/apps/:id", .session(.readApp))
        case .dashboardCreateKey: (.post, "/dashboard/apps/:id/keys", .session(.createKey))
        case .dashboardRevokeKey: (.post, "/dashboard/keys/:id/revoke", .session(.revokeKey))
        case .dashboardDuplicateKey: (.post, "/dashboard/keys/:id/duplicate", .session(.duplicateKey))
        case .dashboardEnvelopes: (.get, "/dashboard/envelopes", .session(.listEnvelopes))
        case .dashboardCreateEnvelope: (.post, "/dashboard/envelopes", .session(.createEnvelope))
        case .dashboardRevokeEnvelope: (.post, "/dashboard/envelopes/:id/revoke", .session(.revokeEnvelope))
        case .dashboardSigningKeys: (.get, "/dashboard/signing-keys", .session(.readSigningKeys))
        case .dashboardRotateSigningKey: (.post, "/dashboard/signing-keys/rotate", .session(.rotateSigningKey))
        case .dashboardAudit: (.get, "/dashboard/audit", .session(.readAudit))
        case .dashboardStylesheet: (.get, "/dashboard/assets/dashboard.css", .open)
        case .dashboardScript: (.get, "/dashboard/assets/dashboard.js", .open)
        }
    }
}

extension Endpoint {
    /// The API's routes for API keys.
    public static let api = allCases.filter { if case .apiKey = $0.access { true } else { false } }
    /// The dashboard's routes for signed-in sessions.
    public static let dashboard = allCases.filter { if case .session = $0.access { true } else { false } }
    /// What anyone may read without a key: only what offline verifiers and OAuth clients' discovery need.
    public static let published: [Endpoint] = [.issuers, .revocations, .oauthMetadata, .jwks, .oauthAuthorize]

    /// The methods `path` answers to, as an `Allow` header value; nil for a path that is no route at all.
    static func methods(for path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let methods = allCases.filter { endpoint in
            let pattern = endpoint.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") ? !$1.isEmpty : $0 == $1 }
        }.map(\.method.rawValue)
        return methods.isEmpty ? nil : Set(methods).sorted().joined(separator: ", ")
    }
}
