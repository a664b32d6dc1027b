public import Foundation

/// An application in one environment; API keys and envelopes belong to an app.
public struct App: Sendable, Hashable {
    public var id: String
    public var orgID: String
    public var name: String
    public var environment: Environment
    public var createdAt: Date
    /// The key that created it; nil for the app `charter init` creates.
    public var createdBy: String?

    public init(
        id: String = Identifier.make(.app), orgID: String, name: String, environment: Environment, createdAt: Date,
        createdBy: String?
    ) {
        self.id = id
        self.orgID = orgID
        self.name = name
        self.environment = environment
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}
