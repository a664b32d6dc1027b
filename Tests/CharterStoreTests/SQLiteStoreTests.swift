import CharterCore
import CharterStorage
import Foundation
import GRDB
import Testing
import UCAN

@testable import CharterSQLite

/// What only the SQLite store can show: its file, its schema, and what tampering with it looks like.
@Suite struct SQLiteStoreTests {
    /// A migrated store on a fresh file, a second connection to the same file for raw SQL, and a tenant.
    struct Setup {
        let database: TemporaryDatabase
        let store: SQLiteStore
        let raw: DatabaseQueue
        let fixture: StoreFixture
        let tenant: StoreFixture.Tenant

        init() async throws {
            database = try TemporaryDatabase()
            store = try SQLiteStore(path: database.path)
            try await store.migrate()
            raw = try DatabaseQueue(path: database.path)
            fixture = StoreFixture(store: store)
            tenant = try await fixture.organization()
        }

        func appendSteps(_ count: Int) async throws -> [AuditRecord] {
            try await store.appendAudit((0..<count).map { fixture.event("step.\($0)", org: tenant.org.id) })
            return try await fixture.chain(tenant.org.id)
        }
    }

    @Test func theDatabaseItsLogAndItsIndexAreTheOwnersAlone() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        _ = try await setup.appendSteps(3)
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: setup.database.path + suffix)
            let mode = try #require(attributes[.posixPermissions] as? Int)
            #expect(mode == 0o600, "charter.db\(suffix) is \(String(mode, radix: 8))")
        }
    }

    @Test func commitsLeaveCheckpointingToTheBackgroundCheckpoint() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        func mainFileSize() throws -> Int {
            try FileManager.default.attributesOfItem(atPath: setup.database.path)[.size] as? Int ?? 0
        }
        try await setup.store.checkpoint()
        let before = try mainFileSize()
        // About 6 MB: far more than SQLite's default threshold of 1000 pages would let pile up in the log.
        var event = setup.fixture.event("padding", org: setup.tenant.org.id)
        event.details = ["pad": .string(String(repeating: "x", count: 2000))]
        for _ in 0..<20 { try await setup.store.appendAudit(Array(repeating: event, count: 150)) }
        #expect(try mainFileSize() == before, "a commit checkpointed by itself")
        try await setup.store.checkpoint()
        #expect(try mainFileSize() > before)
        #expect(try await setup.fixture.chainBreak(setup.tenant.org.id) == nil)
    }

    @Test func anEditedRecordIsReportedAtItsSeq() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let chain = try await setup.appendSteps(5)
        let target = chain[3].seq
        try await setup.raw.write { db in
            try db.execute(sql: "UPDATE audit_records SET action = 'key.read' WHERE seq = ?", arguments: [target])
        }
        let broken = try #require(try await setup.fixture.chainBreak(setup.tenant.org.id))
        #expect(broken.seq == target)
        #expect(broken.reason.contains("hash"))
    }

    @Test func aDeletedRecordIsReportedAtTheNextOne() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let chain = try await setup.appendSteps(5)
        try await setup.raw.write { db in
            try db.execute(sql: "DELETE FROM audit_records WHERE seq = ?", arguments: [chain[3].seq])
        }
        let broken = try #require(try await setup.fixture.chainBreak(setup.tenant.org.id))
        #expect(broken.seq == chain[4].seq)
        #expect(broken.reason.contains("link"))
    }

    @Test func reorderedRecordsAreReported() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let chain = try await setup.appendSteps(5)
        let (first, second) = (chain[1].seq, chain[2].seq)
        try await setup.raw.write { db in
            try db.execute(sql: "UPDATE audit_records SET seq = -1 WHERE seq = ?", arguments: [first])
            try db.execute(sql: "UPDATE audit_records SET seq = ? WHERE seq = ?", arguments: [first, second])
            try db.execute(sql: "UPDATE audit_records SET seq = ? WHERE seq = -1", arguments: [second])
        }
        let broken = try #require(try await setup.fixture.chainBreak(setup.tenant.org.id))
        #expect(broken.seq == first)
    }

    @Test func aTailCutOffIsReportedThoughThePrefixStillLinks() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let chain = try await setup.appendSteps(5)
        #expect(try await AuditService(store: setup.store).verifyAll().breaks.isEmpty)
        try await setup.raw.write { db in
            try db.execute(sql: "DELETE FROM audit_records WHERE seq >= ?", arguments: [chain[3].seq])
        }
        #expect(try await setup.fixture.chainBreak(setup.tenant.org.id) == nil, "what is left still links")
        let breaks = try await AuditService(store: setup.store).verifyAll().breaks
        #expect(breaks.count == 1)
        #expect(breaks.first?.chain == "the whole trail")
        #expect(breaks.first?.at.seq == chain[3].seq)
        #expect(breaks.first?.at.reason.contains("cut off") == true)
    }

    @Test func aSeqIsNeverHandedOutTwice() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let chain = try await setup.appendSteps(3)
        let last = try #require(chain.last)
        try await setup.raw.write { db in
            try db.execute(sql: "DELETE FROM audit_records WHERE seq = ?", arguments: [last.seq])
        }
        try await setup.store.appendAudit([setup.fixture.event("after", org: nil)])
        let next = try #require(try await setup.fixture.chain(nil).first)
        #expect(next.seq > last.seq)
    }

    @Test func aCorruptValueIsAnErrorNamingNoValue() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let chain = try await setup.appendSteps(1)
        try await setup.raw.write { db in
            try db.execute(
                sql: "UPDATE audit_records SET time_ms = 'sentinel-value' WHERE seq = ?", arguments: [chain[0].seq])
            try db.execute(
                sql: "UPDATE api_keys SET ip_allowlist = '[\"sentinel-cidr\"]' WHERE id = ?",
                arguments: [setup.tenant.owner.id])
        }
        let orgID = setup.tenant.org.id
        let keyID = setup.tenant.owner.id
        for read in [
            { _ = try await setup.fixture.chain(orgID) },
            { _ = try await setup.store.key(id: keyID, orgID: orgID) },
        ] as [@Sendable () async throws -> Void] {
            let error = await #expect(throws: CorruptRow.self) { try await read() }
            #expect(error.map { "\($0)".contains("sentinel") } == false)
        }
    }

    @Test func theOnlyKeyMaterialStoredIsTheHash() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let secret = APIKeySecret.generate(for: .live)
        var key = try setup.fixture.key(in: setup.tenant.app, label: "ci")
        key.secretHash = secret.hash
        key.prefix = secret.display
        try await setup.store.createKey(key, audit: setup.fixture.event("key.create", org: setup.tenant.org.id))
        let keyID = key.id
        let (type, stored, prefix, blobColumns) = try await setup.raw.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT typeof(secret_hash) AS type, secret_hash, prefix FROM api_keys WHERE id = ?",
                arguments: [keyID])
            let blobs = try String.fetchAll(
                db, sql: "SELECT name FROM pragma_table_info('api_keys') WHERE type = 'BLOB'")
            return (row?["type"] as String?, row?["secret_hash"] as Data?, row?["prefix"] as String?, blobs)
        }
        #expect(type == "blob")
        #expect(stored.map(Array.init) == secret.hash)
        #expect(stored?.count == 32)
        #expect(prefix == secret.display)
        #expect(blobColumns == ["secret_hash"])
        #expect(!secret.display.contains(secret.plaintext))
        let bytes = try setup.database.contents()
        #expect(bytes.range(of: Data(secret.plaintext.utf8)) == nil, "the plaintext never reaches the file")
        #expect(bytes.range(of: Data(secret.plaintext.suffix(24).utf8)) == nil, "nor a long piece of it")
    }

    @Test func everyCommitIsSyncedToDiskBeforeItReturns() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        // 2 is FULL: the WAL is synced at every commit. GRDB's pool default, NORMAL (1), is not durable.
        let mode = try await setup.store.pool.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        #expect(mode == 2)
    }

    @Test func theSchemaIsMigratedByNameInWALMode() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        try await setup.store.migrate()
        let (migrations, journal) = try await setup.raw.read { db in
            (
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid"),
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            )
        }
        #expect(
            migrations == [
                "v1-organizations-apps-keys", "v1-audit", "v2-envelopes-signing-keys-tokens",
                "v3-minted-tokens-in-mint-order", "v4-issuers-per-organization", "v5-dashboard-sessions",
                "v6-envelope-commands", "v7-envelope-audiences",
            ])
        #expect(journal == "wal")
        let reopened = try SQLiteStore(path: setup.database.path)
        try await reopened.migrate()
        #expect(try await reopened.organization(id: setup.tenant.org.id) == setup.tenant.org)
    }

    /// Writes an envelope as a database from before `v6-envelope-commands` holds one: without command grants.
    static func insertBeforeCommands(_ envelope: Envelope, into raw: DatabaseQueue) async throws {
        try await raw.write { db in
            try db.execute(
                sql: """
                    INSERT INTO envelopes (id, org_id, app_id, environment, name, capabilities, max_ttl_seconds,
                        created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    envelope.id, envelope.orgID, envelope.appID, envelope.environment.rawValue, envelope.name,
                    String(decoding: envelope.capabilities.json.serialized(), as: UTF8.self), envelope.maxTTLSeconds,
                    AuditChain.milliseconds(envelope.createdAt), envelope.createdBy,
                ])
        }
    }

    @Test func tokensMintedBeforeTheyWereKeptInMintOrderSurviveTheMigration() async throws {
        let database = try TemporaryDatabase()
        defer { database.remove() }
        let raw = try DatabaseQueue(path: database.path)
        try SQLiteMigrations.migrator.migrate(raw, upTo: "v2-envelopes-signing-keys-tokens")
        let store = try SQLiteStore(path: database.path)
        let fixture = StoreFixture(store: store)
        let tenant = try await fixture.organization()
        let envelope = TokenStoreTests.envelope(tenant, commands: .none)
        try await Self.insertBeforeCommands(envelope, into: raw)
        let old = (0..<3).map { _ in TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture) }
        #expect(try await store.recordMints(old) == [.recorded, .recorded, .recorded])

        try await store.migrate()
        #expect(
            try await store.envelope(id: envelope.id, orgID: tenant.org.id) == envelope,
            "an envelope from before command grants has none")
        let indexes = try await raw.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'minted_tokens' ORDER BY name")
        }
        #expect(indexes == ["minted_tokens_by_cid", "minted_tokens_by_expiry"])
        for mint in old {
            #expect(try await store.mintedToken(cid: mint.token.cid, orgID: tenant.org.id) == mint.token)
        }
        let new = TokenStoreTests.mint(tenant, envelope: envelope, fixture: fixture)
        #expect(try await store.recordMints([new]) == [.recorded])
        #expect(try await store.mintedToken(cid: new.token.cid, orgID: tenant.org.id) == new.token)
        let again = await #expect(throws: CharterError.self, "a CID is recorded once") {
            try await store.recordMints([old[0]])
        }
        #expect(again?.code == .conflict)
        var revoked = old[1].token
        revoked.revokedAt = fixture.now
        #expect(
            try await store.revokeToken(
                revoked, entry: TokenStoreTests.entry(revoked.cid.string, tenant, coversUntil: revoked.expiresAt),
                audit: fixture.event("token.revoke", org: tenant.org.id)))
        #expect(try await store.mintedToken(cid: revoked.cid, orgID: tenant.org.id)?.revokedAt != nil)
        #expect(try await fixture.chainBreak(tenant.org.id) == nil)
    }

    /// Issue 17: the issuers older databases shared between organizations stop signing at the upgrade, stay
    /// verify-only for as long as their tokens may live, and every organization signs with its own from then on.
    @Test func sharedIssuersOfAnOlderDatabaseTurnVerifyOnlyAndMintsUseTheOrganizationsOwn() async throws {
        let database = try TemporaryDatabase()
        defer { database.remove() }
        let raw = try DatabaseQueue(path: database.path)
        try SQLiteMigrations.migrator.migrate(raw, upTo: "v3-minted-tokens-in-mint-order")
        let store = try SQLiteStore(path: database.path)
        let fixture = StoreFixture(store: store)
        let tenant = try await fixture.organization()
        try await Self.insertBeforeCommands(TokenStoreTests.envelope(tenant, commands: .none), into: raw)
        let masterKey = SecretBox.Key()
        var shared: [Environment: DID] = [:]
        for environment in Environment.allCases {
            let key = Ed25519.SigningKey()
            shared[environment] = DID(publicKey: key.publicKey)
            try await raw.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO signing_keys (id, environment, did, sealed_seed, created_at) VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Identifier.make(.signingKey), environment.rawValue, DID(publicKey: key.publicKey).string,
                        Data(SecretBox.seal(key.exportSecretKey(), using: masterKey)), 0,
                    ])
            }
        }

        let upgraded = Date()
        try await store.migrate()
        let stored = try await store.signingKeys()
        #expect(stored.count == 2 && stored.allSatisfy { $0.orgID == nil && $0.retiredAt != nil })
        let longest = TimeInterval(TokenStoreTests.envelope(tenant).maxTTLSeconds)
        for record in stored {
            let window = (record.environment == .live ? longest : 0) + TokenLifetimePolicy.retirementGrace
            let verifyUntil = try #require(record.verifyUntil)
            #expect(abs(verifyUntil.timeIntervalSince(upgraded) - window) < 5, "\(record.environment)")
        }

        let controlPlane = ControlPlane(store: store, masterKey: masterKey)
        try await controlPlane.signingKeys.checkMasterKey()
        let signer = try await controlPlane.signingKeys.active(
            orgID: tenant.org.id, environment: .live, context: CallContext(ip: nil, requestID: "test"))
        #expect(signer.record.orgID == tenant.org.id && signer.record.did != shared[.live])
        let published = try await controlPlane.signingKeys.issuers()
        #expect(Set(published.map(\.did)) == Set(shared.values).union([signer.record.did]))
        #expect(published.filter { $0.orgID == nil }.allSatisfy { $0.status(at: Date()) == .verifyOnly })
    }

    @Test func aKeyForAMissingAppIsRefused() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let ghost = App(orgID: setup.tenant.org.id, name: "ghost", environment: .live, createdAt: .now, createdBy: nil)
        let key = try setup.fixture.key(in: ghost, label: "ci")
        let error = await #expect(throws: DatabaseError.self) {
            try await setup.store.createKey(key, audit: setup.fixture.event("key.create", org: setup.tenant.org.id))
        }
        #expect(error?.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY)
        #expect(try await setup.fixture.chain(setup.tenant.org.id).count == 2)
    }

    @Test func theDirectoryMustExist() {
        #expect(throws: DatabaseError.self) {
            try SQLiteStore(path: "/nonexistent-\(UUID().uuidString)/charter.db")
        }
    }
}
