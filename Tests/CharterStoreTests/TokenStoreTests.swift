import CharterCore
import Foundation
import Testing
import UCAN

/// Envelopes, signing keys, minted tokens and the revocation feed, against every store.
@Suite struct TokenStoreTests {
    static let capabilities = try! Capabilities([Capability(resource: "mailto:*", ability: "email/send")])

    /// 1.0 grants beside the 0.10 capabilities, so both round-trip through every store.
    static let commands = CommandGrants([
        try! Command("/email/send"): try! Policy([
            ["like", ".to", "*@example.com"], ["not", ["==", ".cc", [1, 2.5]]],
        ]),
        try! Command("/crm"): .empty,
    ])

    static func envelope(
        _ tenant: StoreFixture.Tenant, name: String = "mail", ttl: Int = 600, commands: CommandGrants = commands
    ) -> Envelope {
        // Commands and audiences only when the envelope is made as new ones are: an old one has neither.
        let audiences =
            commands.isEmpty
            ? Audiences.none
            : Audiences(["https://mail.example.com/mcp": DID(publicKey: Ed25519.SigningKey().publicKey)])
        return Envelope(
            orgID: tenant.org.id, appID: tenant.app.id, environment: .live, name: name, capabilities: capabilities,
            commands: commands, audiences: audiences, maxTTLSeconds: ttl, createdAt: StoreFixture.now,
            createdBy: tenant.owner.id)
    }

    static func mint(_ tenant: StoreFixture.Tenant, envelope: Envelope, key: APIKey? = nil, fixture: StoreFixture)
        -> Mint
    {
        let key = key ?? tenant.owner
        let random = SecureBytes.random(count: 32)
        let token = MintedToken(
            cid: random.withUnsafeBytes { CID(hashing: $0) }, orgID: tenant.org.id, appID: tenant.app.id,
            environment: .live, envelopeID: envelope.id, keyID: key.id, signingKeyID: "sk_test",
            audience: DID(publicKey: Ed25519.SigningKey().publicKey), createdAt: fixture.now,
            expiresAt: fixture.now.addingTimeInterval(300))
        return Mint(token: token, audit: fixture.event("token.mint", org: tenant.org.id, key: key.id))
    }

    static func entry(_ subject: String, _ tenant: StoreFixture.Tenant, coversUntil: Date) -> RevocationEntry {
        RevocationEntry.signed(
            .envelope, subject: subject, orgID: tenant.org.id, environment: .live, by: Ed25519.SigningKey(),
            at: StoreFixture.now, coversUntil: coversUntil)
    }

    @Test(arguments: StoreFactory.all)
    func envelopesRoundTripAndStayInTheirOrganization(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            let envelope = Self.envelope(acme)
            try await store.createEnvelope(envelope, audit: fixture.event("envelope.create", org: acme.org.id))
            #expect(try await store.envelope(id: envelope.id, orgID: acme.org.id) == envelope)
            #expect(try await store.envelope(id: envelope.id, orgID: other.org.id) == nil)
            #expect(try await store.envelopes(orgID: acme.org.id, appID: acme.app.id) == [envelope])
            #expect(try await store.envelopes(orgID: other.org.id, appID: nil) == [])
            await #expect(throws: CharterError.self) {
                try await store.createEnvelope(
                    Self.envelope(acme), audit: fixture.event("envelope.create", org: acme.org.id))
            }
            #expect(try await store.longestEnvelopeTTL(orgID: acme.org.id, environment: .live) == 600)
            #expect(try await store.longestEnvelopeTTL(orgID: acme.org.id, environment: .test) == 0)
            #expect(try await store.longestEnvelopeTTL(orgID: other.org.id, environment: .live) == 0)
        }
    }

    /// One batch may hold mints of several organizations: each extends its own chain, numbered in one sequence.
    @Test(arguments: StoreFactory.all)
    func aBatchOfSeveralOrganizationsExtendsEachChain(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization()
            let acmeEnvelope = Self.envelope(acme)
            let otherEnvelope = Self.envelope(other)
            try await store.createEnvelope(acmeEnvelope, audit: fixture.event("envelope.create", org: acme.org.id))
            try await store.createEnvelope(otherEnvelope, audit: fixture.event("envelope.create", org: other.org.id))
            let batch = [
                Self.mint(acme, envelope: acmeEnvelope, fixture: fixture),
                Self.mint(other, envelope: otherEnvelope, fixture: fixture),
                Self.mint(acme, envelope: acmeEnvelope, fixture: fixture),
            ]
            #expect(try await store.recordMints(batch) == [.recorded, .recorded, .recorded])
            for (tenant, mints) in [(acme, 2), (other, 1)] {
                let chain = try await fixture.chain(tenant.org.id)
                #expect(chain.filter { $0.event.action == "token.mint" }.count == mints)
                #expect(try await fixture.chainBreak(tenant.org.id) == nil)
            }
            let seqs = try await (fixture.chain(acme.org.id) + fixture.chain(other.org.id))
                .filter { $0.event.action == "token.mint" }.map(\.seq).sorted()
            #expect(seqs == Array(seqs[0]..<(seqs[0] + 3)), "the batch's records are numbered consecutively")
        }
    }

    @Test(arguments: StoreFactory.all)
    func aMintIsRefusedInsideItsTransactionOnceItsEnvelopeOrKeyIsRevoked(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            var envelope = Self.envelope(acme)
            try await store.createEnvelope(envelope, audit: fixture.event("envelope.create", org: acme.org.id))
            let agent = try fixture.key(in: acme.app, label: "agent")
            try await store.createKey(agent, audit: fixture.event("key.create", org: acme.org.id))

            let fine = Self.mint(acme, envelope: envelope, fixture: fixture)
            #expect(try await fixture.revoke(agent))
            let byRevokedKey = Self.mint(acme, envelope: envelope, key: agent, fixture: fixture)
            #expect(try await store.recordMints([fine, byRevokedKey]) == [.recorded, .keyRevoked])

            envelope.revokedAt = fixture.now
            envelope.revokedBy = acme.owner.id
            let entry = Self.entry(envelope.id, acme, coversUntil: fixture.now.addingTimeInterval(600))
            #expect(
                try await store.revokeEnvelope(
                    envelope, entry: entry, audit: fixture.event("envelope.revoke", org: acme.org.id)))
            #expect(
                try await !store.revokeEnvelope(
                    envelope, entry: entry, audit: fixture.event("envelope.revoke", org: acme.org.id)))
            let late = Self.mint(acme, envelope: envelope, fixture: fixture)
            #expect(try await store.recordMints([late]) == [.envelopeRevoked])

            #expect(try await store.mintedToken(cid: fine.token.cid, orgID: acme.org.id) == fine.token)
            #expect(try await store.mintedToken(cid: late.token.cid, orgID: acme.org.id) == nil)
            #expect(try await store.mintedToken(cid: byRevokedKey.token.cid, orgID: acme.org.id) == nil)
            // Only the recorded mint has an audit record; the chain stays whole.
            let actions = try await fixture.chain(acme.org.id).map(\.event.action)
            #expect(actions.filter { $0 == "token.mint" }.count == 1)
            #expect(try await fixture.chainBreak(acme.org.id) == nil)
            // The refused mints kept no audit number: the last number handed out is the last record's.
            let lastWritten = try #require(try await fixture.chain(acme.org.id).last?.seq)
            #expect(try await store.lastAuditSeq() == lastWritten)
        }
    }

    @Test(arguments: StoreFactory.all)
    func theFeedIsOrderedResumableAndPruned(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let now = fixture.now
            var envelopes: [Envelope] = []
            for (index, covers) in [60.0, 600, 6000].enumerated() {
                var envelope = Self.envelope(acme, name: "e\(index)")
                try await store.createEnvelope(envelope, audit: fixture.event("envelope.create", org: acme.org.id))
                envelope.revokedAt = now
                let entry = Self.entry(envelope.id, acme, coversUntil: now.addingTimeInterval(covers))
                #expect(
                    try await store.revokeEnvelope(
                        envelope, entry: entry, audit: fixture.event("envelope.revoke", org: acme.org.id)))
                envelopes.append(envelope)
            }
            // Another organization's entry takes a seq but never shows in this one's feed.
            let other = try await fixture.organization("Other")
            var foreign = Self.envelope(other, name: "theirs")
            try await store.createEnvelope(foreign, audit: fixture.event("envelope.create", org: other.org.id))
            foreign.revokedAt = now
            #expect(
                try await store.revokeEnvelope(
                    foreign, entry: Self.entry(foreign.id, other, coversUntil: now.addingTimeInterval(6000)),
                    audit: fixture.event("envelope.revoke", org: other.org.id)))
            func feed(after seq: Int64 = 0, limit: Int = 10, at time: Date = now) async throws
                -> (entries: [RevocationEntry], latest: Int64)
            {
                try await store.revocations(
                    orgID: acme.org.id, environment: .live, after: seq, limit: limit, coveringAfter: time)
            }
            let (all, latest) = try await feed()
            #expect(all.map(\.subject) == envelopes.map(\.id))
            #expect(all.map(\.seq) == all.map(\.seq).sorted())
            #expect(all.allSatisfy { $0.hasValidSignature })
            #expect(latest > all[2].seq)
            #expect(
                try await store.revocations(
                    orgID: acme.org.id, environment: .test, after: 0, limit: 10, coveringAfter: now
                ).entries.isEmpty)
            let rest = try await feed(after: all[0].seq, limit: 1)
            #expect(rest.entries.map(\.subject) == [envelopes[1].id])
            // An entry whose tokens have all expired is left out, then deleted.
            let later = now.addingTimeInterval(120)
            #expect(try await feed(at: later).entries.map(\.subject) == [envelopes[1].id, envelopes[2].id])
            try await store.prune(expiredBefore: now.addingTimeInterval(1000))
            #expect(try await feed().entries.map(\.subject) == [envelopes[2].id])
            // Even once every entry is pruned, the latest seq a feed head names does not move backwards.
            try await store.prune(expiredBefore: now.addingTimeInterval(100_000))
            #expect(try await feed().entries.isEmpty)
            #expect(try await feed().latest == latest)
        }
    }

    @Test(arguments: StoreFactory.all)
    func oneSigningKeyIsActivePerOrganizationAndEnvironment(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            func record(_ environment: Environment, at offset: TimeInterval, org: String? = nil) -> SigningKeyRecord {
                let key = Ed25519.SigningKey()
                return SigningKeyRecord(
                    orgID: org ?? acme.org.id, environment: environment, did: DID(publicKey: key.publicKey),
                    sealedSeed: [1, 2, 3], createdAt: fixture.now.addingTimeInterval(offset))
            }
            let event = fixture.event("signing_key.create", org: acme.org.id)
            let first = record(.live, at: 0)
            let until = fixture.now.addingTimeInterval(900)
            #expect(try await store.activateSigningKey(first, retiring: until, onlyIfNone: true, audit: event))
            #expect(
                try await !store.activateSigningKey(
                    record(.live, at: 1), retiring: until, onlyIfNone: true, audit: event))
            let second = record(.live, at: 2)
            #expect(try await store.activateSigningKey(second, retiring: until, onlyIfNone: false, audit: event))
            let test = record(.test, at: 3)
            #expect(try await store.activateSigningKey(test, retiring: until, onlyIfNone: true, audit: event))
            // Another organization's issuer neither waits for nor retires this one's.
            let theirs = record(.live, at: 4, org: other.org.id)
            #expect(
                try await store.activateSigningKey(
                    theirs, retiring: until, onlyIfNone: true,
                    audit: fixture.event("signing_key.create", org: other.org.id)))
            let stored = try await store.signingKeys()
            #expect(stored.map(\.id) == [first.id, second.id, test.id, theirs.id])
            #expect(stored.map(\.orgID) == [acme.org.id, acme.org.id, acme.org.id, other.org.id])
            #expect(stored[0].retiredAt == second.createdAt)
            #expect(stored[0].verifyUntil == until)
            #expect(stored[0].sealedSeed == [1, 2, 3])
            #expect(stored[1].retiredAt == nil && stored[2].retiredAt == nil && stored[3].retiredAt == nil)
        }
    }
}
