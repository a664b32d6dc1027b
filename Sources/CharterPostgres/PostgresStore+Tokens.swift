public import CharterCore
import CharterStorage
public import Foundation
import NIOCore
import PostgresNIO
public import UCAN

extension PostgresStore {
    /// Other replicas drop their cached copy of the app's envelopes before this returns.
    public func createEnvelope(_ envelope: Envelope, audit: AuditEvent) async throws {
        try await write(announcing: [.envelopes(appID: envelope.appID)]) { connection in
            try await run(.insert(envelope.storedColumns), connection)
            try await AuditAppend.append([audit], connection, store: self)
        }
    }

    public func envelope(id: String, orgID: String) async throws -> Envelope? {
        try await rows("SELECT * FROM envelopes WHERE id = \(id) AND org_id = \(orgID)").first
            .map(Envelope.init(row:))
    }

    public func envelopes(orgID: String, appID: String?) async throws -> [Envelope] {
        let query: PostgresQuery =
            if let appID {
                "SELECT * FROM envelopes WHERE org_id = \(orgID) AND app_id = \(appID) ORDER BY created_at, id"
            } else {
                "SELECT * FROM envelopes WHERE org_id = \(orgID) ORDER BY created_at, id"
            }
        return try await rows(query).map(Envelope.init(row:))
    }

    public func revokeEnvelope(_ envelope: Envelope, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool {
        try await write(announcing: [.envelopes(appID: envelope.appID)]) { connection in
            let updated = try await rows(
                """
                UPDATE envelopes SET revoked_at = \(StoredValue.time(envelope.revokedAt)),
                    revoked_by = \(envelope.revokedBy)
                WHERE id = \(envelope.id) AND org_id = \(envelope.orgID) AND revoked_at IS NULL
                RETURNING id
                """, connection)
            guard !updated.isEmpty else { return false }
            try await run(.insert(entry.storedColumns), connection)
            try await AuditAppend.append([audit], connection, store: self)
            return true
        }
    }

    public func longestEnvelopeTTL(orgID: String, environment: Environment) async throws -> Int {
        let longest = try await one(
            Int64.self,
            """
            SELECT COALESCE(MAX(max_ttl_seconds), 0)::bigint FROM envelopes
            WHERE org_id = \(orgID) AND environment = \(environment.rawValue)
            """)
        return Int(longest ?? 0)
    }

    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await rows("SELECT * FROM signing_keys ORDER BY created_at, id").map(SigningKeyRecord.init(row:))
    }

    /// Other replicas forget which key is active before this returns.
    public func activateSigningKey(
        _ key: SigningKeyRecord, retiring verifyUntil: Date, onlyIfNone: Bool, audit: AuditEvent
    ) async throws -> Bool {
        try await write(announcing: [.signingKeys]) { connection in
            let active = try await rows(
                """
                SELECT id FROM signing_keys
                WHERE org_id = \(key.orgID) AND environment = \(key.environment.rawValue) AND retired_at IS NULL
                """, connection)
            if onlyIfNone, !active.isEmpty { return false }
            try await connection.query(
                """
                UPDATE signing_keys SET retired_at = \(StoredValue.time(key.createdAt)),
                    verify_until = \(StoredValue.time(verifyUntil))
                WHERE org_id = \(key.orgID) AND environment = \(key.environment.rawValue) AND retired_at IS NULL
                """, logger: self.logger)
            try await run(.insert(key.storedColumns), connection)
            try await AuditAppend.append([audit], connection, store: self)
            return true
        }
    }

    /// Each envelope and key is checked once per batch, and the batch commits only if no other write committed
    /// after the check: a revocation that committed first is seen, and one that commits later is ordered after
    /// these mints.
    ///
    /// Two round trips, whatever the batch's size, and no lock held while they are apart: one statement reads what
    /// the batch needs, and one writes the token rows and audit records if no write that takes the write lock
    /// committed in between (see ``InsertMints``). When one did, the batch is read and written again under the
    /// lock, and so are the next batches while other writes (another replica's mints) keep committing between
    /// this store's. As with a lost COMMIT, a connection lost while the writing statement runs fails the batch
    /// although it may have been recorded.
    public func recordMints(_ mints: [Mint]) async throws -> [Mint.Outcome] {
        if !mintBatches.withLock(\.locking) {
            let recorded = try await autocommit { connection in
                try await record(mints, at: try await mintBatchState(mints, connection), connection)
            }
            if let recorded { return recorded }
        }
        return try await write { connection in
            let state = try await mintBatchState(mints, connection)
            mintBatches.withLock {
                // Only this transaction's own lock moved the version since this store's last batch: no one else
                // wrote.
                $0.locking = state.version != $0.lastVersion + 1
                $0.lastVersion = max($0.lastVersion, state.version)
            }
            // Holding the lock, nothing else commits in between.
            guard let recorded = try await record(mints, at: state, connection) else {
                throw CorruptRow("audit_counter")
            }
            return recorded
        }
    }

    /// What ``record(_:at:_:)`` needs to know about `mints`, read at one moment.
    func mintBatchState(_ mints: [Mint], _ connection: PostgresConnection) async throws -> MintBatchState.Read {
        let chains = Array(AuditRows.chains(of: mints.map(\.audit)).compactMap { $0 })
        let statement = MintBatchState(
            envelopeIDs: Array(Set(mints.map(\.token.envelopeID))), keyIDs: Array(Set(mints.map(\.token.keyID))),
            chains: chains)
        var read: MintBatchState.Read?
        for try await (version, lastSeq, envelopes, keys, hashes) in try await connection.execute(
            statement, logger: logger)
        {
            read = MintBatchState.Read(
                version: version, lastSeq: lastSeq, activeEnvelopes: Set(envelopes), activeKeys: Set(keys),
                heads: ChainHeads.heads(chains, from: hashes))
        }
        guard var read else { throw CorruptRow("audit_counter") }
        if mints.contains(where: { $0.audit.orgID == nil }) {
            // Read after the version, so a write committed in between moves the version the batch checks.
            read.heads[nil] = try await AuditAppend.unattributedHead(connection, logger: logger)
        }
        return read
    }

    /// Records the mints `state` does not refuse, unless a write committed after `state` was read.
    /// - Returns: each mint's outcome, or nil when a write committed since (nothing is written then).
    func record(_ mints: [Mint], at state: MintBatchState.Read, _ connection: PostgresConnection) async throws
        -> [Mint.Outcome]?
    {
        var outcomes: [Mint.Outcome] = []
        var recorded: [Mint] = []
        outcomes.reserveCapacity(mints.count)
        for mint in mints {
            if !state.activeEnvelopes.contains(mint.token.envelopeID) {
                outcomes.append(.envelopeRevoked)
            } else if !state.activeKeys.contains(mint.token.keyID) {
                outcomes.append(.keyRevoked)
            } else {
                outcomes.append(.recorded)
                recorded.append(mint)
            }
        }
        guard !recorded.isEmpty else { return outcomes }
        let rows = AuditRows.link(recorded.map(\.audit), firstSeq: state.lastSeq + 1, heads: state.heads)
        let statement = InsertMints(
            version: state.version, lastSeq: state.lastSeq, tokens: recorded.map(\.token), audit: rows)
        var claimed: Int64?
        for try await version in try await connection.execute(statement, logger: logger) { claimed = version }
        guard let claimed else { return nil }
        mintBatches.withLock { $0.lastVersion = max($0.lastVersion, claimed) }
        return outcomes
    }

    public func mintedToken(cid: CID, orgID: String) async throws -> MintedToken? {
        try await rows("SELECT * FROM minted_tokens WHERE cid = \(cid.string) AND org_id = \(orgID)").first
            .map(MintedToken.init(row:))
    }

    public func revokeToken(_ token: MintedToken, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool {
        try await write { connection in
            let updated = try await rows(
                """
                UPDATE minted_tokens SET revoked_at = \(StoredValue.time(token.revokedAt))
                WHERE cid = \(token.cid.string) AND org_id = \(token.orgID) AND revoked_at IS NULL
                RETURNING cid
                """, connection)
            guard !updated.isEmpty else { return false }
            try await run(.insert(entry.storedColumns), connection)
            try await AuditAppend.append([audit], connection, store: self)
            return true
        }
    }

    public func revocations(
        orgID: String, environment: Environment, after seq: Int64, limit: Int, coveringAfter now: Date
    ) async throws -> (entries: [RevocationEntry], latest: Int64) {
        // One statement, so one snapshot: the latest seq and the entries up to it are read together, and entries
        // commit in seq order (under the write lock), so every seq up to the latest is visible.
        let rows = try await rows(
            """
            SELECT h.latest, r.* FROM (SELECT COALESCE(MAX(seq), 0)::bigint AS latest FROM revocations) h
            LEFT JOIN LATERAL (
                SELECT * FROM revocations
                WHERE org_id = \(orgID) AND environment = \(environment.rawValue) AND seq > \(seq)
                    AND seq <= h.latest AND covers_until > \(StoredValue.time(now))
                ORDER BY seq LIMIT \(Int64(max(limit, 0)))
            ) r ON true
            ORDER BY r.seq
            """)
        let latest = try rows.first?.integer("latest") ?? 0
        let entries = try rows.filter { try $0.integer("seq") != nil }.map(RevocationEntry.init(row:))
        return (entries, latest)
    }

    public func prune(expiredBefore date: Date) async throws {
        let cutoff = StoredValue.time(date)
        try await write { connection in
            // The newest entry stays, so the latest seq a feed head names never moves backwards.
            try await connection.query(
                """
                DELETE FROM revocations
                WHERE covers_until < \(cutoff) AND seq < (SELECT MAX(seq) FROM revocations)
                """, logger: self.logger)
            try await connection.query("DELETE FROM minted_tokens WHERE expires_at < \(cutoff)", logger: self.logger)
        }
    }
}
