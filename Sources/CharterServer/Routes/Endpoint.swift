public import CharterCore
public import HTTPTypes

/// One API route and the permission it demands: the table the role × endpoint matrix is checked against.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let method: HTTPRequest.Method
    /// The path with `:id` placeholders.
    public let path: String
    /// What the caller's key must hold; nil means any authenticated key.
    public let permission: Permission?

    public var description: String { "\(method) \(path)" }
}

extension Endpoint {
    public static let createApp = Endpoint(method: .post, path: "/v1/apps", permission: .appsWrite)
    public static let listApps = Endpoint(method: .get, path: "/v1/apps", permission: .appsRead)
    public static let getApp = Endpoint(method: .get, path: "/v1/apps/:id", permission: .appsRead)
    public static let createKey = Endpoint(method: .post, path: "/v1/keys", permission: .keysWrite)
    public static let listKeys = Endpoint(method: .get, path: "/v1/keys", permission: .keysRead)
    public static let getKey = Endpoint(method: .get, path: "/v1/keys/:id", permission: .keysRead)
    public static let updateKey = Endpoint(method: .patch, path: "/v1/keys/:id", permission: .keysWrite)
    public static let revokeKey = Endpoint(method: .post, path: "/v1/keys/:id/revoke", permission: .keysWrite)
    public static let duplicateKey = Endpoint(method: .post, path: "/v1/keys/:id/duplicate", permission: .keysWrite)
    public static let me = Endpoint(method: .get, path: "/v1/me", permission: nil)
    public static let audit = Endpoint(method: .get, path: "/v1/audit", permission: .auditRead)
    public static let auditExport = Endpoint(method: .get, path: "/v1/audit/export", permission: .auditRead)

    public static let createEnvelope = Endpoint(method: .post, path: "/v1/envelopes", permission: .envelopesWrite)
    public static let listEnvelopes = Endpoint(method: .get, path: "/v1/envelopes", permission: .envelopesRead)
    public static let getEnvelope = Endpoint(method: .get, path: "/v1/envelopes/:id", permission: .envelopesRead)
    public static let revokeEnvelope = Endpoint(
        method: .post, path: "/v1/envelopes/:id/revoke", permission: .envelopesWrite)
    public static let authorize = Endpoint(method: .post, path: "/v1/authorize", permission: .tokenAuthorize)
    public static let revokeToken = Endpoint(method: .post, path: "/v1/tokens/:cid/revoke", permission: .tokensRevoke)
    public static let rotateSigningKey = Endpoint(
        method: .post, path: "/v1/signing-keys/rotate", permission: .signingKeysRotate)
    /// Every authenticated route.
    public static let all: [Endpoint] = [
        createApp, listApps, getApp, createKey, listKeys, getKey, updateKey, revokeKey, duplicateKey, me, audit,
        auditExport, createEnvelope, listEnvelopes, getEnvelope, revokeEnvelope, authorize, revokeToken,
        rotateSigningKey,
    ]

    /// Routes anyone may read without a key: they publish only what offline verifiers need.
    public static let issuers = Endpoint(method: .get, path: "/v1/issuers", permission: nil)
    public static let revocations = Endpoint(method: .get, path: "/v1/revocations", permission: nil)
    public static let unauthenticated: [Endpoint] = [issuers, revocations]
}

extension Endpoint {
    /// The health routes, which take GET only.
    static let health = ["/healthz", "/readyz", "/metrics"].map { Endpoint(method: .get, path: $0, permission: nil) }

    /// The methods `path` answers to, as an `Allow` header value; nil for a path that is no route at all.
    static func methods(for path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let methods = (all + unauthenticated + health).filter { endpoint in
            let pattern = endpoint.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == segments.count
                && zip(pattern, segments).allSatisfy { $0.hasPrefix(":") ? !$1.isEmpty : $0 == $1 }
        }.map(\.method.rawValue)
        return methods.isEmpty ? nil : Set(methods).sorted().joined(separator: ", ")
    }
}
