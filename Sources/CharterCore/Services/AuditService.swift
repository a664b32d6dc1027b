/// Reading the audit trail, and checking its hash chains.
public struct AuditService: Sendable {
    /// The largest page a caller may ask for.
    public static let maxPage = 500

    private let store: any Store

    public init(store: any Store) { self.store = store }

    /// One page of the caller's organization's records, newest first.
    public func query(_ query: AuditQuery, by caller: Identity) async throws -> [AuditRecord] {
        try caller.require(.auditRead)
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
                    try caller.require(.auditRead)
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

    /// Checks every chain in the store from its first record.
    /// - Returns: the number of records checked and, per broken chain, where it first breaks.
    public func verifyAll() async throws -> (checked: Int, breaks: [(orgID: String?, at: AuditChain.Break)]) {
        var checked = 0
        var breaks: [(orgID: String?, at: AuditChain.Break)] = []
        for orgID in try await store.auditChains() {
            var previous = AuditChain.genesis
            var after: Int64 = 0
            while true {
                let records = try await store.auditChain(orgID: orgID, after: after, limit: 1000)
                guard let last = records.last else { break }
                let (broken, hash) = AuditChain.verify(records, after: previous)
                if let broken {
                    breaks.append((orgID, broken))
                    checked += records.prefix { $0.seq < broken.seq }.count
                    break
                }
                checked += records.count
                previous = hash
                after = last.seq
            }
        }
        return (checked, breaks)
    }
}
