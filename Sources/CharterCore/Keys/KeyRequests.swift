public import Foundation

/// What a caller asks for when creating a key; values are checked by ``KeyService``.
public struct NewKeyRequest: Sendable, Hashable {
    public var appID: String
    public var label: String
    public var role: String?
    public var permissions: [String]?
    public var expiresAt: Date?
    public var expiresInDays: Int?
    public var ipAllowlist: [String]?
    public var allowedEndpoints: [String]?
    public var rateLimitPerMinute: Int?

    public init(
        appID: String, label: String, role: String? = nil, permissions: [String]? = nil, expiresAt: Date? = nil,
        expiresInDays: Int? = nil, ipAllowlist: [String]? = nil, allowedEndpoints: [String]? = nil,
        rateLimitPerMinute: Int? = nil
    ) {
        self.appID = appID
        self.label = label
        self.role = role
        self.permissions = permissions
        self.expiresAt = expiresAt
        self.expiresInDays = expiresInDays
        self.ipAllowlist = ipAllowlist
        self.allowedEndpoints = allowedEndpoints
        self.rateLimitPerMinute = rateLimitPerMinute
    }
}

/// An edit to a key: every field optional; nothing may widen what the key can do.
public struct KeyChanges: Sendable, Hashable {
    public var label: String?
    public var role: String?
    public var permissions: [String]?
    public var ipAllowlist: [String]?
    public var allowedEndpoints: [String]?
    public var rateLimitPerMinute: Int?

    public init(
        label: String? = nil, role: String? = nil, permissions: [String]? = nil, ipAllowlist: [String]? = nil,
        allowedEndpoints: [String]? = nil, rateLimitPerMinute: Int? = nil
    ) {
        self.label = label
        self.role = role
        self.permissions = permissions
        self.ipAllowlist = ipAllowlist
        self.allowedEndpoints = allowedEndpoints
        self.rateLimitPerMinute = rateLimitPerMinute
    }
}

/// A key just created, with the plaintext that is shown this once.
public struct IssuedKey: Sendable {
    public let key: APIKey
    public let plaintext: String
}
