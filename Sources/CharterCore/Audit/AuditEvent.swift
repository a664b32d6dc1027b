public import Foundation
public import UCAN

/// Something to record in the audit trail: a state change, a mint, or a denied request.
public struct AuditEvent: Sendable, Hashable {
    /// How the action ended.
    public enum Outcome: String, Sendable, Hashable, CaseIterable, Codable {
        case success
        case denied
        case failure
    }

    public var time: Date
    /// The organization whose chain records it; nil when the caller could not be identified.
    public var orgID: String?
    public var environment: Environment?
    /// The key that made the call, when known.
    public var keyID: String?
    /// What was attempted, such as `key.create` or `request.denied`.
    public var action: String
    /// What it was done to, such as a key or app id.
    public var target: String?
    public var outcome: Outcome
    /// Why it was denied or failed: an error code.
    public var reason: String?
    public var ip: String?
    public var requestID: String?
    /// Anything else worth keeping; never a secret.
    public var details: JSONObject

    public init(
        time: Date, orgID: String?, environment: Environment? = nil, keyID: String?, action: String,
        target: String? = nil, outcome: Outcome, reason: String? = nil, ip: String? = nil, requestID: String? = nil,
        details: JSONObject = [:]
    ) {
        self.time = time
        self.orgID = orgID
        self.environment = environment
        self.keyID = keyID
        self.action = action
        self.target = target
        self.outcome = outcome
        self.reason = reason
        self.ip = ip
        self.requestID = requestID
        self.details = details
    }
}

/// An audit event as stored: numbered and linked into its organization's hash chain.
public struct AuditRecord: Sendable, Hashable {
    /// Position in the store, increasing across all chains.
    public var seq: Int64
    public var event: AuditEvent
    /// The hash of the previous record in the same organization's chain (32 zero bytes for the first).
    public var previousHash: [UInt8]
    /// SHA-256 over `previousHash` and the canonical JSON of this record.
    public var hash: [UInt8]

    public init(seq: Int64, event: AuditEvent, previousHash: [UInt8], hash: [UInt8]) {
        self.seq = seq
        self.event = event
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// Filters for reading the audit trail, newest first.
public struct AuditQuery: Sendable, Hashable {
    public var keyID: String?
    public var action: String?
    public var outcome: AuditEvent.Outcome?
    public var since: Date?
    public var until: Date?
    /// Return only records older than this sequence number (the previous page's cursor).
    public var before: Int64?
    public var limit: Int

    public init(
        keyID: String? = nil, action: String? = nil, outcome: AuditEvent.Outcome? = nil, since: Date? = nil,
        until: Date? = nil, before: Int64? = nil, limit: Int = 100
    ) {
        self.keyID = keyID
        self.action = action
        self.outcome = outcome
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}
