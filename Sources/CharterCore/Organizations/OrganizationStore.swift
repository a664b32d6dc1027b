public import Foundation

/// Organizations, and creating one with its first app and owner key.
public protocol OrganizationStore: Sendable {
    /// The number of organizations; zero means `charter init` has not run.
    func organizationCount() async throws -> Int

    /// Creates an organization with its first app and owner key.
    /// - Parameter onlyIfEmpty: when true, does nothing and returns false if any organization exists.
    /// - Returns: whether it was created.
    func createOrganization(
        _ organization: Organization, app: App, ownerKey: APIKey, audit: [AuditEvent], onlyIfEmpty: Bool
    ) async throws -> Bool

    /// The organization with this id.
    func organization(id: String) async throws -> Organization?
}
