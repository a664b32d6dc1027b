/// One thing a key may do. Roles are named sets of these; keys may also carry a custom subset.
public enum Permission: String, Sendable, Hashable, CaseIterable, Comparable, Codable {
    case orgRead = "org.read"
    /// Delete or transfer the organization: owners only.
    case orgManage = "org.manage"
    case membersRead = "members.read"
    case appsRead = "apps.read"
    case appsWrite = "apps.write"
    case keysRead = "keys.read"
    case keysWrite = "keys.write"
    /// Mint tokens through `/v1/authorize`, always for the key's own app.
    case tokenAuthorize = "token.authorize"
    case envelopesRead = "envelopes.read"
    case envelopesWrite = "envelopes.write"
    case tokensRevoke = "tokens.revoke"
    case signingKeysRead = "signing_keys.read"
    case signingKeysRotate = "signing_keys.rotate"
    case auditRead = "audit.read"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Every permission in name order, for listing a set without sorting it each time.
    public static let inNameOrder = allCases.sorted()

    /// Whether this permission only reads.
    public var isRead: Bool { rawValue.hasSuffix(".read") }
}
