import CharterCore
import CharterPostgres
import CharterTestSupport
import Foundation
import Logging
import Testing
import UCAN

/// What only a PostgreSQL database made by an older Charter can show: its data carried through a migration.
@Suite(.enabled(if: TestPostgres.isAvailable, "needs the PostgreSQL server `make test` starts"))
struct PostgresMigrationTests {
    /// Issue 17 on PostgreSQL: the shared issuers of an older database turn verify-only for as long as their
    /// tokens may live, and every organization signs with its own from then on.
    @Test func sharedIssuersOfAnOlderDatabaseTurnVerifyOnlyAndMintsUseTheOrganizationsOwn() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try await PostgresStore.connect(url: PostgresURL(url), logger: Logger(label: "test"))
        try await store.withServices {
            try await store.migrate()
            let fixture = StoreFixture(store: store)
            let tenant = try await fixture.organization()
            let envelope = TokenStoreTests.envelope(tenant)
            try await store.createEnvelope(envelope, audit: fixture.event("envelope.create", org: tenant.org.id))

            // Back to the schema before v4, holding the shared issuers such a database had.
            let masterKey = SecretBox.Key()
            var statements = [
                "DELETE FROM charter_migrations WHERE name = 'v4-issuers-per-organization'",
                "DROP INDEX signing_keys_one_active",
                "ALTER TABLE signing_keys DROP COLUMN org_id",
                "CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (environment) WHERE retired_at IS NULL",
            ]
            var shared: [Environment: DID] = [:]
            for environment in Environment.allCases {
                let key = Ed25519.SigningKey()
                let did = DID(publicKey: key.publicKey)
                shared[environment] = did
                let sealed = SecretBox.seal(key.exportSecretKey(), using: masterKey)
                let hex = sealed.map { String($0, radix: 16).leftPadded(2) }.joined()
                statements.append(
                    """
                    INSERT INTO signing_keys (id, environment, did, sealed_seed, created_at)
                    VALUES ('\(Identifier.make(.signingKey))', '\(environment.rawValue)', '\(did.string)', '\\x\(hex)', 0)
                    """)
            }
            _ = try await TestPostgres.scalar(url, "SELECT 1", session: statements)

            let upgraded = Date()
            try await store.migrate()
            let stored = try await store.signingKeys()
            #expect(stored.count == 2 && stored.allSatisfy { $0.orgID == nil && $0.retiredAt != nil })
            for record in stored {
                let longest = record.environment == .live ? TimeInterval(envelope.maxTTLSeconds) : 0
                let verifyUntil = try #require(record.verifyUntil)
                #expect(
                    abs(verifyUntil.timeIntervalSince(upgraded) - longest - TokenLifetimePolicy.retirementGrace) < 5,
                    "\(record.environment)")
            }
            let controlPlane = ControlPlane(store: store, masterKey: masterKey)
            try await controlPlane.signingKeys.checkMasterKey()
            let signer = try await controlPlane.signingKeys.active(
                orgID: tenant.org.id, environment: .live, context: CallContext(ip: nil, requestID: "test"))
            #expect(signer.record.orgID == tenant.org.id && signer.record.did != shared[.live])
            let published = try await controlPlane.signingKeys.issuers()
            #expect(Set(published.map(\.did)) == Set(shared.values).union([signer.record.did]))
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
