public import Foundation

/// A tenant: everything Charter holds belongs to exactly one organization.
public struct Organization: Sendable, Hashable {
    public var id: String
    public var name: String
    public var createdAt: Date

    public init(id: String = Identifier.make(.organization), name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}
