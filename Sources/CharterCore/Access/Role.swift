/// The preset roles of DESIGN.md, each a fixed set of permissions.
public enum Role: String, Sendable, Hashable, CaseIterable, Codable {
    case owner
    case admin
    case agentManager = "agent_manager"
    case policyAuthor = "policy_author"
    case auditor
    case member
    case agent

    /// The permissions the role grants.
    public var permissions: Set<Permission> {
        switch self {
        case .owner:
            return Set(Permission.allCases)
        case .admin:
            return Set(Permission.allCases).subtracting([.orgManage])
        case .agentManager:
            return [
                .orgRead, .membersRead, .appsRead, .appsWrite, .keysRead, .keysWrite, .tokenAuthorize,
                .envelopesRead, .auditRead,
            ]
        case .policyAuthor:
            return [.orgRead, .membersRead, .appsRead, .keysRead, .envelopesRead, .envelopesWrite, .auditRead]
        case .auditor:
            return Set(Permission.allCases.filter(\.isRead))
        case .member:
            return [.orgRead, .membersRead]
        case .agent:
            return [.tokenAuthorize]
        }
    }

    /// The role whose permissions are exactly `permissions`, if any.
    public static func matching(_ permissions: Set<Permission>) -> Role? {
        allCases.first { $0.permissions == permissions }
    }
}
