public import Foundation

/// A stored API key: everything about it except its plaintext, which exists only at creation.
public struct APIKey: Sendable, Hashable {
    public var id: String
    public var orgID: String
    public var appID: String
    public var environment: Environment
    /// Unique within the app.
    public var label: String
    /// The masked display form, such as `chr_live_Ab3x…9kLm`.
    public var prefix: String
    /// The preset the permissions came from; nil for a custom set.
    public var role: Role?
    public var permissions: Set<Permission>
    /// SHA-256 of the plaintext key; lookups go by this hash.
    public var secretHash: [UInt8]
    public var createdAt: Date
    /// The key that created this one; nil for an organization's first owner key.
    public var createdBy: String?
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var revokedBy: String?
    public var lastUsedAt: Date?
    public var usageCount: Int64
    /// When non-empty, requests must come from one of these networks.
    public var ipAllowlist: [CIDR]
    /// When non-empty, the only paths the key may call (`*` at the end matches a prefix).
    public var allowedEndpoints: [String]
    public var rateLimitPerMinute: Int?
    /// Bumped on every change, so concurrent edits cannot silently overwrite each other.
    public var version: Int

    public init(
        id: String = Identifier.make(.key), orgID: String, appID: String, environment: Environment, label: String,
        prefix: String, role: Role?, permissions: Set<Permission>, secretHash: [UInt8], createdAt: Date,
        createdBy: String?, expiresAt: Date? = nil, revokedAt: Date? = nil, revokedBy: String? = nil,
        lastUsedAt: Date? = nil, usageCount: Int64 = 0, ipAllowlist: [CIDR] = [], allowedEndpoints: [String] = [],
        rateLimitPerMinute: Int? = nil, version: Int = 1
    ) {
        self.id = id
        self.orgID = orgID
        self.appID = appID
        self.environment = environment
        self.label = label
        self.prefix = prefix
        self.role = role
        self.permissions = permissions
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
        self.lastUsedAt = lastUsedAt
        self.usageCount = usageCount
        self.ipAllowlist = ipAllowlist
        self.allowedEndpoints = allowedEndpoints
        self.rateLimitPerMinute = rateLimitPerMinute
        self.version = version
    }

    /// Whether the key works right now.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case active
        case expired
        case revoked
    }

    /// The status at `now`: revocation wins over expiry.
    public func status(at now: Date) -> Status {
        if revokedAt != nil { return .revoked }
        if let expiresAt, expiresAt <= now { return .expired }
        return .active
    }

    /// Whether `path` is one this key may call.
    public func allows(endpoint path: String) -> Bool {
        allowedEndpoints.isEmpty || allowedEndpoints.contains { Self.endpoint($0, matches: path) }
    }

    /// The one rule for endpoint patterns: exact, or a prefix when the pattern ends in `*`. A pattern
    /// matching another pattern's text means it covers everything that one does.
    static func endpoint(_ pattern: String, matches path: String) -> Bool {
        pattern.hasSuffix("*") ? path.hasPrefix(pattern.dropLast()) : path == pattern
    }
}
