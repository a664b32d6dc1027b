public import Foundation

/// Apps.
public protocol AppStore: Sendable {
    /// Stores a new app.
    /// - Throws: ``CharterError`` `conflict` when the organization already has an app of that name in that environment.
    func createApp(_ app: App, audit: AuditEvent) async throws

    /// The app with this id, if it belongs to `orgID`.
    func app(id: String, orgID: String) async throws -> App?

    /// The organization's apps, oldest first.
    func apps(orgID: String) async throws -> [App]
}
