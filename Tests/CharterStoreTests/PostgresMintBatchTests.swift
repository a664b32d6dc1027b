import CharterCore
import CharterStorage
import CharterTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CharterPostgres

/// A PostgreSQL mint batch reads without the write lock, then commits only if no write committed in between
/// (`PostgresStore.recordMints`): the writes that land in that gap, and replicas minting at once.
@Suite(.enabled(if: TestPostgres.isAvailable, "needs the PostgreSQL server `make test` starts"))
struct PostgresMintBatchTests {
    /// A fresh, migrated PostgreSQL store with its services running, the same database for every store made by one
    /// call (so several are replicas), and a tenant with an envelope.
    func withReplicas(
        _ count: Int = 1,
        _ body: ([PostgresStore], StoreFixture, StoreFixture.Tenant, Envelope) async throws -> Void
    ) async throws {
        let url = try PostgresURL(try await TestPostgres.freshDatabase())
        var stores: [PostgresStore] = []
        for _ in 0..<count { stores.append(try await PostgresStore.connect(url: url, logger: Logger(label: "test"))) }
        func running(_ remaining: ArraySlice<PostgresStore>) async throws {
            guard let store = remaining.first else {
                try await stores[0].migrate()
                let fixture = StoreFixture(store: stores[0])
                let tenant = try await fixture.organization()
                let envelope = TokenStoreTests.envelope(tenant)
                try await stores[0].createEnvelope(
                    envelope, audit: fixture.event("envelope.create", org: tenant.org.id))
                try await body(stores, fixture, tenant, envelope)
                return
            }
            try await store.withServices { try await running(remaining.dropFirst()) }
        }
        try await running(stores[...])
    }

    /// A new key, and a batch of one mint made with it.
    func agentMint(
        _ store: PostgresStore, _ fixture: StoreFixture, _ tenant: StoreFixture.Tenant, _ envelope: Envelope
    ) async throws -> (APIKey, [Mint]) {
        let agent = try fixture.key(in: tenant.app, label: "agent")
        try await store.createKey(agent, audit: fixture.event("key.create", org: tenant.org.id))
        return (agent, [TokenStoreTests.mint(tenant, envelope: envelope, key: agent, fixture: fixture)])
    }

    /// Reads the batch's state on one connection, as `recordMints` does first.
    func read(_ mints: [Mint], _ store: PostgresStore) async throws -> MintBatchState.Read {
        try await store.autocommit { try await store.mintBatchState(mints, $0) }
    }

    /// Writes the batch from a state read earlier, as `recordMints` does next.
    func record(_ mints: [Mint], at state: MintBatchState.Read, _ store: PostgresStore) async throws
        -> [Mint.Outcome]?
    {
        try await store.autocommit { try await store.record(mints, at: state, $0) }
    }

    @Test func aKeyRevokedAfterTheBatchWasReadRefusesItsMints() async throws {
        try await withReplicas { stores, fixture, tenant, envelope in
            let store = stores[0]
            let (agent, mints) = try await agentMint(store, fixture, tenant, envelope)
            let state = try await read(mints, store)
            #expect(state.activeKeys.contains(agent.id), "read before the revocation")

            #expect(try await fixture.revoke(agent))

            #expect(try await record(mints, at: state, store) == nil, "the revocation committed in between")
            #expect(try await store.mintedToken(cid: mints[0].token.cid, orgID: tenant.org.id) == nil)
            #expect(try await fixture.chain(tenant.org.id).allSatisfy { $0.event.action != "token.mint" })
            #expect(try await store.recordMints(mints) == [.keyRevoked])
            #expect(try await store.mintedToken(cid: mints[0].token.cid, orgID: tenant.org.id) == nil)
        }
    }

    /// Any write moves the version, even one no mint of the batch depends on: the chain the batch would extend
    /// may have moved, so it writes nothing, and is written whole (and linked to the new head) the next time.
    @Test func anyWriteAfterTheBatchWasReadSendsItBackAndTheChainStaysWhole() async throws {
        try await withReplicas { stores, fixture, tenant, envelope in
            let store = stores[0]
            let mints = (0..<3).map { _ in TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture) }
            let state = try await read(mints, store)
            let lastSeq = try await store.lastAuditSeq()
            let app = App(
                orgID: tenant.org.id, name: "other", environment: .live, createdAt: fixture.now, createdBy: nil)
            try await store.createApp(app, audit: fixture.event("app.create", org: tenant.org.id))

            #expect(try await record(mints, at: state, store) == nil)
            #expect(try await store.lastAuditSeq() == lastSeq + 1, "only the app's record was written")
            #expect(try await store.recordMints(mints) == [.recorded, .recorded, .recorded])
            let actions = try await fixture.chain(tenant.org.id).suffix(4).map(\.event.action)
            #expect(actions == ["app.create", "token.mint", "token.mint", "token.mint"])
            #expect(try await fixture.chainBreak(tenant.org.id) == nil)
        }
    }

    /// A write that appends no audit record (pruning) moves only the version, and that alone sends the batch back.
    @Test func aWriteWithoutAnAuditRecordStillSendsTheBatchBack() async throws {
        try await withReplicas { stores, fixture, tenant, envelope in
            let store = stores[0]
            let mints = [TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture)]
            let state = try await read(mints, store)
            try await store.prune(expiredBefore: fixture.now)
            #expect(try await store.lastAuditSeq() == state.lastSeq, "pruning wrote no audit record")

            #expect(try await record(mints, at: state, store) == nil)
            #expect(try await store.mintedToken(cid: mints[0].token.cid, orgID: tenant.org.id) == nil)
            #expect(try await store.recordMints(mints) == [.recorded])
        }
    }

    /// The claim waits for a write lock another transaction holds, here revoking the batch's key: if that
    /// transaction commits, the claim re-reads the moved version and writes nothing; if it rolls back, the claim
    /// goes through.
    @Test(arguments: [true, false])
    func aClaimWaitingForTheLockSeesTheWriteThatHeldIt(commits: Bool) async throws {
        try await withReplicas { stores, fixture, tenant, envelope in
            let store = stores[0]
            let (agent, mints) = try await agentMint(store, fixture, tenant, envelope)
            let state = try await read(mints, store)
            let logger = Logger(label: "test")

            let claimed = try await store.client.withConnection { holder in
                try await holder.query("BEGIN", logger: logger)
                try await holder.query("UPDATE audit_counter SET version = version + 1 WHERE id = 1", logger: logger)
                try await holder.query(
                    "UPDATE api_keys SET revoked_at = \(StoredValue.time(fixture.now)) WHERE id = \(agent.id)",
                    logger: logger)
                let finished = Mutex(false)
                let claim = Task {
                    defer { finished.withLock { $0 = true } }
                    return try await record(mints, at: state, store)
                }
                // Until PostgreSQL shows the claim waiting for the lock this transaction holds (or, if it is
                // broken, the claim ends without waiting). Asked on another connection: inside a transaction,
                // pg_stat_activity keeps showing what it showed first.
                var waiting = false
                while !waiting, !finished.withLock({ $0 }) {
                    let count = try await store.one(
                        Int64.self,
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock'
                        """)
                    waiting = (count ?? 0) > 0
                }
                if !waiting { _ = try await claim.value }
                try #require(waiting, "the claim waits for the lock")
                try await holder.query(commits ? "COMMIT" : "ROLLBACK", logger: logger)
                return try await claim.value
            }
            if commits {
                #expect(claimed == nil)
                #expect(try await store.mintedToken(cid: mints[0].token.cid, orgID: tenant.org.id) == nil)
                #expect(try await store.recordMints(mints) == [.keyRevoked])
            } else {
                #expect(claimed == [.recorded])
                #expect(try await store.mintedToken(cid: mints[0].token.cid, orgID: tenant.org.id) == mints[0].token)
            }
            #expect(try await fixture.chainBreak(tenant.org.id) == nil)
        }
    }

    /// A token already recorded is a conflict on the path without the lock too, and the batch writes nothing.
    @Test func aTokenRecordedTwiceIsAConflict() async throws {
        try await withReplicas { stores, fixture, tenant, envelope in
            let store = stores[0]
            let mint = TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture)
            #expect(try await store.recordMints([mint]) == [.recorded])
            let last = try await store.lastAuditSeq()
            let again = await #expect(throws: CharterError.self) { try await store.recordMints([mint]) }
            #expect(again?.code == .conflict)
            #expect(try await store.lastAuditSeq() == last)
        }
    }

    /// After a batch found another write in its way, batches take the lock first, until one finds that no one
    /// else wrote since this store's last batch.
    @Test func batchesTakeTheLockWhileOtherWritesCommitBetweenThem() async throws {
        try await withReplicas(2) { stores, fixture, tenant, envelope in
            let (store, other) = (stores[0], stores[1])
            /// Records one mint through `replica`, and whether `store` takes the lock first after it.
            func mint(through replica: PostgresStore) async throws -> Bool {
                let outcomes = try await replica.recordMints([
                    TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture)
                ])
                #expect(outcomes == [.recorded])
                return store.mintBatches.withLock(\.locking)
            }
            store.mintBatches.withLock { $0.locking = true }
            #expect(
                try await mint(through: store), "the setup's writes came after this store's last batch (it had none)")
            #expect(try await !mint(through: store), "no one wrote since")
            #expect(try await !mint(through: store))

            store.mintBatches.withLock { $0.locking = true }
            _ = try await mint(through: other)
            #expect(try await mint(through: store), "the other replica minted since")
            #expect(try await fixture.chainBreak(tenant.org.id) == nil)
        }
    }

    /// Two replicas minting into one chain at once, batch against batch: every mint recorded once, numbered
    /// without a gap or a repeat, and the chain unbroken.
    @Test func replicasMintingAtOnceKeepOneWholeChain() async throws {
        try await withReplicas(2) { stores, fixture, tenant, envelope in
            let batches = 20
            let perBatch = 5
            let firstSeq = try await stores[0].lastAuditSeq() + 1
            let outcomes = try await withThrowingTaskGroup(of: [Mint.Outcome].self) { group in
                for batch in 0..<batches {
                    let mints = (0..<perBatch).map { _ in
                        TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture)
                    }
                    group.addTask { try await stores[batch % 2].recordMints(mints) }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(outcomes == Array(repeating: .recorded, count: batches * perBatch))
            let mints = try await fixture.chain(tenant.org.id).filter { $0.event.action == "token.mint" }
            #expect(mints.map(\.seq).sorted() == Array(firstSeq..<(firstSeq + Int64(batches * perBatch))))
            #expect(try await stores[1].lastAuditSeq() == firstSeq + Int64(batches * perBatch) - 1)
            #expect(try await fixture.chainBreak(tenant.org.id) == nil)
        }
    }
}
