import CharterCore
import CharterSQLite
import Foundation
import GRDB
import Testing

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
            let error = await #expect(throws: (any Error).self) { try await read() }
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
        #expect(migrations == ["v1-organizations-apps-keys", "v1-audit", "v2-envelopes-signing-keys-tokens"])
        #expect(journal == "wal")
        let reopened = try SQLiteStore(path: setup.database.path)
        try await reopened.migrate()
        #expect(try await reopened.organization(id: setup.tenant.org.id) == setup.tenant.org)
    }

    @Test func aKeyForAMissingAppIsRefused() async throws {
        let setup = try await Setup()
        defer { setup.database.remove() }
        let ghost = App(orgID: setup.tenant.org.id, name: "ghost", environment: .live, createdAt: .now, createdBy: nil)
        let key = try setup.fixture.key(in: ghost, label: "ci")
        await #expect(throws: (any Error).self) {
            try await setup.store.createKey(key, audit: setup.fixture.event("key.create", org: setup.tenant.org.id))
        }
        #expect(try await setup.fixture.chain(setup.tenant.org.id).count == 2)
    }

    @Test func theDirectoryMustExist() {
        #expect(throws: (any Error).self) {
            try SQLiteStore(path: "/nonexistent-\(UUID().uuidString)/charter.db")
        }
    }
}
