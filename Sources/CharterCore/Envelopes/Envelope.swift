public import Foundation
public import UCAN

/// The most an app may be granted: UCAN 0.10 capabilities, UCAN 1.0 command grants (at least one of the two),
/// and a longest token lifetime, authored by policy authors.
///
/// `/v1/authorize` mints only what an active envelope of the key's app covers. Revoking an envelope kills
/// every token minted under it, through the revocation feed.
public struct Envelope: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case active
        case revoked
    }

    public var id: String
    public var orgID: String
    public var appID: String
    public var environment: Environment
    public var name: String
    public var capabilities: Capabilities
    /// The UCAN 1.0 commands a delegation may be minted for, each with its policy.
    public var commands: CommandGrants
    /// The services OAuth clients may name by URL for this envelope's tokens.
    public var audiences: Audiences
    public var maxTTLSeconds: Int
    public var createdAt: Date
    public var createdBy: String?
    public var revokedAt: Date?
    public var revokedBy: String?

    public init(
        id: String = Identifier.make(.envelope), orgID: String, appID: String, environment: Environment, name: String,
        capabilities: Capabilities, commands: CommandGrants = .none, audiences: Audiences = .none, maxTTLSeconds: Int,
        createdAt: Date,
        createdBy: String?, revokedAt: Date? = nil,
        revokedBy: String? = nil
    ) {
        self.id = id
        self.orgID = orgID
        self.appID = appID
        self.environment = environment
        self.name = name
        self.capabilities = capabilities
        self.commands = commands
        self.audiences = audiences
        self.maxTTLSeconds = maxTTLSeconds
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.revokedAt = revokedAt
        self.revokedBy = revokedBy
    }

    public var status: Status { revokedAt == nil ? .active : .revoked }
}
