public import Foundation

/// The audit trail: one hash chain per organization.
public protocol AuditStore: Sendable {
    /// Appends events that change no other state, such as denied requests.
    func appendAudit(_ events: [AuditEvent]) async throws

    /// One organization's records matching `query`, newest first.
    func auditRecords(orgID: String, query: AuditQuery) async throws -> [AuditRecord]

    /// The organization ids that have an audit chain; nil stands for unattributed events.
    func auditChains() async throws -> [String?]

    /// The highest seq ever handed out, kept apart from the records themselves (SQLite's `sqlite_sequence`,
    /// PostgreSQL's `audit_counter`), so records cut off the end of the trail show; 0 before the first.
    func lastAuditSeq() async throws -> Int64

    /// A chain's records in order, after `seq`, at most `limit` of them.
    func auditChain(orgID: String?, after seq: Int64, limit: Int) async throws -> [AuditRecord]
}
