/// Reading the audit trail, and checking its hash chains.
public struct AuditService: Sendable {
    /// The largest page a caller may ask for.
    public static let maxPage = 500

    private let store: any AuditStore

    public init(store: any AuditStore) { self.store = store }

    /// One page of the caller's organization's records, newest first.
    public func query(_ query: AuditQuery, by caller: Identity) async throws -> [AuditRecord] {
        try caller.authorize(.readAudit)
        guard (1...Self.maxPage).contains(query.limit) else {
            throw CharterError.invalid("limit", "must be 1...\(Self.maxPage)")
        }
        return try await store.auditRecords(orgID: caller.organization.id, query: query)
    }

    /// Every record of the caller's organization matching `query`, oldest page last, in pages.
    public func export(_ query: AuditQuery, by caller: Identity) -> AsyncThrowingStream<[AuditRecord], any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try caller.authorize(.readAudit)
                    var page = query
                    page.limit = Self.maxPage
                    while true {
                        let records = try await store.auditRecords(orgID: caller.organization.id, query: page)
                        if !records.isEmpty { continuation.yield(records) }
                        guard records.count == page.limit, let last = records.last else { break }
                        page.before = last.seq
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// What ``verifyAll()`` found.
    public struct Verification: Sendable {
        /// Records whose hash and link checked out.
        public var checked = 0
        /// Where each broken chain first breaks, named for people ("organization org_…", "unattributed
        /// events", "the whole trail" for records missing from the end).
        public var breaks: [(chain: String, at: AuditChain.Break)] = []
    }

    /// Checks every chain in the store from its first record, and that no record is missing from the end of
    /// the trail: a hash chain alone cannot tell a cut-off tail from a trail that simply ends there.
    public func verifyAll() async throws -> Verification {
        var result = Verification()
        var highest: Int64 = 0
        for orgID in try await store.auditChains() {
            let name = orgID.map { "organization \($0)" } ?? "unattributed events"
            var previous = AuditChain.genesis
            var after: Int64 = 0
            while true {
                let records = try await store.auditChain(orgID: orgID, after: after, limit: 1000)
                guard let last = records.last else { break }
                highest = max(highest, last.seq)
                let (broken, hash) = AuditChain.verify(records, after: previous)
                if let broken {
                    result.breaks.append((name, broken))
                    result.checked += records.prefix { $0.seq < broken.seq }.count
                    break
                }
                result.checked += records.count
                previous = hash
                after = last.seq
            }
        }
        let written = try await store.lastAuditSeq()
        if written > highest {
            result.breaks.append(
                (
                    "the whole trail",
                    AuditChain.Break(
                        seq: highest + 1,
                        reason: "records \(highest + 1)...\(written) were written but are missing: the end was cut off")
                ))
        }
        return result
    }
}
