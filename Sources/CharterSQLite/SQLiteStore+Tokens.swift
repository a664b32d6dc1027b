public import CharterCore
import CharterStorage
public import Foundation
import GRDB
public import UCAN

extension SQLiteStore {
    public func createEnvelope(_ envelope: Envelope, audit: AuditEvent) async throws {
        try await write { db in
            try Rows.insert(envelope.storedColumns, db)
            try AuditTable.append([audit], db)
        }
    }

    public func envelope(id: String, orgID: String) async throws -> Envelope? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM envelopes WHERE id = ? AND org_id = ?", arguments: [id, orgID])
                .map { try Envelope(row: SQLiteRow($0)) }
        }
    }

    public func envelopes(orgID: String, appID: String?) async throws -> [Envelope] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM envelopes WHERE org_id = ? AND (? IS NULL OR app_id = ?) ORDER BY created_at, id
                    """,
                arguments: [orgID, appID, appID]
            ).map { try Envelope(row: SQLiteRow($0)) }
        }
    }

    public func revokeEnvelope(_ envelope: Envelope, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE envelopes SET revoked_at = ?, revoked_by = ?
                    WHERE id = ? AND org_id = ? AND revoked_at IS NULL
                    """,
                arguments: [StoredValue.time(envelope.revokedAt), envelope.revokedBy, envelope.id, envelope.orgID])
            guard db.changesCount == 1 else { return false }
            try Rows.insert(entry.storedColumns, db)
            try AuditTable.append([audit], db)
            return true
        }
    }

    public func longestEnvelopeTTL(orgID: String, environment: Environment) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COALESCE(MAX(max_ttl_seconds), 0) FROM envelopes WHERE org_id = ? AND environment = ?",
                arguments: [orgID, environment.rawValue]) ?? 0
        }
    }

    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, id").map {
                try SigningKeyRecord(row: SQLiteRow($0))
            }
        }
    }

    public func activateSigningKey(
        _ key: SigningKeyRecord, retiring verifyUntil: Date, onlyIfNone: Bool, audit: AuditEvent
    ) async throws -> Bool {
        try await write { db in
            let scope = "org_id = ? AND environment = ? AND retired_at IS NULL"
            let hasActive =
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM signing_keys WHERE \(scope))",
                    arguments: [key.orgID, key.environment.rawValue]) ?? false
            if onlyIfNone, hasActive { return false }
            try db.execute(
                sql: "UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE \(scope)",
                arguments: [
                    StoredValue.time(key.createdAt), StoredValue.time(verifyUntil), key.orgID, key.environment.rawValue,
                ])
            try Rows.insert(key.storedColumns, db)
            try AuditTable.append([audit], db)
            return true
        }
    }

    public func recordMints(_ mints: [Mint]) async throws -> [Mint.Outcome] {
        try await write { db in
            let envelopeActive = try db.cachedStatement(
                sql: "SELECT revoked_at IS NULL FROM envelopes WHERE id = ?")
            let keyActive = try db.cachedStatement(sql: "SELECT revoked_at IS NULL FROM api_keys WHERE id = ?")
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO minted_tokens (cid, org_id, app_id, environment, envelope_id, key_id, signing_key_id,
                        audience, created_at, expires_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                    """)
            // Mints in one batch mostly share their envelope and key: look each up once.
            var envelopes: [String: Bool] = [:]
            var keys: [String: Bool] = [:]
            var outcomes: [Mint.Outcome] = []
            var events: [AuditEvent] = []
            outcomes.reserveCapacity(mints.count)
            for mint in mints {
                let token = mint.token
                let envelopeOK =
                    try envelopes[token.envelopeID]
                    ?? (Bool.fetchOne(envelopeActive, arguments: [token.envelopeID]) ?? false)
                envelopes[token.envelopeID] = envelopeOK
                guard envelopeOK else {
                    outcomes.append(.envelopeRevoked)
                    continue
                }
                let keyOK = try keys[token.keyID] ?? (Bool.fetchOne(keyActive, arguments: [token.keyID]) ?? false)
                keys[token.keyID] = keyOK
                guard keyOK else {
                    outcomes.append(.keyRevoked)
                    continue
                }
                try insert.execute(arguments: [
                    token.cid.string, token.orgID, token.appID, token.environment.rawValue, token.envelopeID,
                    token.keyID, token.signingKeyID, token.audience.string, StoredValue.time(token.createdAt),
                    StoredValue.time(token.expiresAt),
                ])
                events.append(mint.audit)
                outcomes.append(.recorded)
            }
            try AuditTable.append(events, db)
            return outcomes
        }
    }

    public func mintedToken(cid: CID, orgID: String) async throws -> MintedToken? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM minted_tokens WHERE cid = ? AND org_id = ?", arguments: [cid.string, orgID]
            ).map { try MintedToken(row: SQLiteRow($0)) }
        }
    }

    public func revokeToken(_ token: MintedToken, entry: RevocationEntry, audit: AuditEvent) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE minted_tokens SET revoked_at = ? WHERE cid = ? AND org_id = ? AND revoked_at IS NULL",
                arguments: [StoredValue.time(token.revokedAt), token.cid.string, token.orgID])
            guard db.changesCount == 1 else { return false }
            try Rows.insert(entry.storedColumns, db)
            try AuditTable.append([audit], db)
            return true
        }
    }

    public func revocations(
        orgID: String, environment: Environment, after seq: Int64, limit: Int, coveringAfter now: Date
    ) async throws -> (entries: [RevocationEntry], latest: Int64) {
        // One read transaction: the latest seq and the entries up to it come from the same snapshot.
        try await pool.read { db in
            let latest =
                try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'revocations'") ?? 0
            let entries = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM revocations
                    WHERE org_id = ? AND environment = ? AND seq > ? AND seq <= ? AND covers_until > ?
                    ORDER BY seq LIMIT ?
                    """,
                arguments: [orgID, environment.rawValue, seq, latest, StoredValue.time(now), limit]
            ).map { try RevocationEntry(row: SQLiteRow($0)) }
            return (entries, latest)
        }
    }

    public func prune(expiredBefore date: Date) async throws {
        try await write { db in
            let cutoff = StoredValue.time(date)
            try db.execute(sql: "DELETE FROM revocations WHERE covers_until < ?", arguments: [cutoff])
            // AUTOINCREMENT keeps the highest seq in sqlite_sequence even when its row goes, so feed heads never
            // move backwards.
            try db.execute(sql: "DELETE FROM minted_tokens WHERE expires_at < ?", arguments: [cutoff])
        }
    }
}
