import GRDB

/// The schema, as named forward-only migrations: a shipped migration is never edited, only followed.
///
/// Times are INTEGER milliseconds since the epoch; lists (permissions, CIDRs, endpoints) are JSON arrays of
/// strings; hashes are BLOBs. No column ever holds a plaintext key: the store never receives one.
enum SQLiteMigrations {
    /// Every migration, in order.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-organizations-apps-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE organizations (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE apps (
                        id TEXT PRIMARY KEY NOT NULL,
                        org_id TEXT NOT NULL REFERENCES organizations(id),
                        name TEXT NOT NULL,
                        environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                        created_at INTEGER NOT NULL,
                        created_by TEXT,
                        UNIQUE (org_id, environment, name)
                    );
                    CREATE TABLE api_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        org_id TEXT NOT NULL REFERENCES organizations(id),
                        app_id TEXT NOT NULL REFERENCES apps(id),
                        environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                        label TEXT NOT NULL,
                        prefix TEXT NOT NULL,
                        role TEXT,
                        permissions TEXT NOT NULL,
                        secret_hash BLOB NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        created_by TEXT,
                        expires_at INTEGER,
                        revoked_at INTEGER,
                        revoked_by TEXT,
                        last_used_at INTEGER,
                        usage_count INTEGER NOT NULL DEFAULT 0,
                        ip_allowlist TEXT NOT NULL,
                        allowed_endpoints TEXT NOT NULL,
                        rate_limit_per_minute INTEGER,
                        version INTEGER NOT NULL,
                        UNIQUE (app_id, label)
                    );
                    CREATE INDEX api_keys_by_org ON api_keys (org_id, created_at);
                    """)
        }
        migrator.registerMigration("v1-audit") { db in
            try db.execute(
                sql: """
                    -- AUTOINCREMENT: a deleted record's seq is never handed out again, so a number seen in an
                    -- export always names the same record.
                    CREATE TABLE audit_records (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
                        org_id TEXT,
                        time_ms INTEGER NOT NULL,
                        environment TEXT,
                        key_id TEXT,
                        action TEXT NOT NULL,
                        target TEXT,
                        outcome TEXT NOT NULL,
                        reason TEXT,
                        ip TEXT,
                        request_id TEXT,
                        details TEXT NOT NULL,
                        previous_hash BLOB NOT NULL,
                        hash BLOB NOT NULL
                    );
                    CREATE INDEX audit_by_org ON audit_records (org_id, seq);
                    CREATE INDEX audit_by_org_key ON audit_records (org_id, key_id, seq);
                    CREATE INDEX audit_by_org_action ON audit_records (org_id, action, seq);
                    """)
        }
        migrator.registerMigration("v2-envelopes-signing-keys-tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE envelopes (
                        id TEXT PRIMARY KEY NOT NULL,
                        org_id TEXT NOT NULL REFERENCES organizations(id),
                        app_id TEXT NOT NULL REFERENCES apps(id),
                        environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                        name TEXT NOT NULL,
                        capabilities TEXT NOT NULL,
                        max_ttl_seconds INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        created_by TEXT,
                        revoked_at INTEGER,
                        revoked_by TEXT,
                        UNIQUE (app_id, name)
                    );
                    CREATE INDEX envelopes_by_org ON envelopes (org_id, app_id, created_at);
                    -- sealed_seed is the secret key sealed under the master key, which is never stored here.
                    CREATE TABLE signing_keys (
                        id TEXT PRIMARY KEY NOT NULL,
                        environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                        did TEXT NOT NULL UNIQUE,
                        sealed_seed BLOB NOT NULL,
                        created_at INTEGER NOT NULL,
                        retired_at INTEGER,
                        verify_until INTEGER
                    );
                    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (environment) WHERE retired_at IS NULL;
                    -- What revoking by CID needs; never the token itself.
                    CREATE TABLE minted_tokens (
                        cid TEXT PRIMARY KEY NOT NULL,
                        org_id TEXT NOT NULL,
                        app_id TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        envelope_id TEXT NOT NULL,
                        key_id TEXT NOT NULL,
                        signing_key_id TEXT NOT NULL,
                        audience TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    ) WITHOUT ROWID;
                    CREATE INDEX minted_tokens_by_expiry ON minted_tokens (expires_at);
                    CREATE TABLE revocations (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
                        org_id TEXT NOT NULL,
                        environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                        kind TEXT NOT NULL CHECK (kind IN ('token', 'envelope')),
                        subject TEXT NOT NULL UNIQUE,
                        issuer TEXT NOT NULL,
                        challenge BLOB NOT NULL,
                        revoked_at INTEGER NOT NULL,
                        covers_until INTEGER NOT NULL
                    );
                    CREATE INDEX revocations_by_expiry ON revocations (covers_until);
                    """)
        }
        // A table keyed by CID put every minted token on a random page, so under load each second's checkpoint
        // copied back (and synced) thousands of scattered pages, more as the table grew: that was most of
        // /v1/authorize's p99. Rows now go in the order they are minted; only the far denser CID index is random.
        migrator.registerMigration("v3-minted-tokens-in-mint-order") { db in
            try db.execute(
                sql: """
                    CREATE TABLE minted_tokens_in_order (
                        cid TEXT NOT NULL,
                        org_id TEXT NOT NULL,
                        app_id TEXT NOT NULL,
                        environment TEXT NOT NULL,
                        envelope_id TEXT NOT NULL,
                        key_id TEXT NOT NULL,
                        signing_key_id TEXT NOT NULL,
                        audience TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    INSERT INTO minted_tokens_in_order SELECT cid, org_id, app_id, environment, envelope_id, key_id,
                        signing_key_id, audience, created_at, expires_at, revoked_at
                        FROM minted_tokens ORDER BY created_at;
                    DROP TABLE minted_tokens;
                    ALTER TABLE minted_tokens_in_order RENAME TO minted_tokens;
                    CREATE UNIQUE INDEX minted_tokens_by_cid ON minted_tokens (cid);
                    CREATE INDEX minted_tokens_by_expiry ON minted_tokens (expires_at);
                    """)
        }
        // Issuers were shared by every organization, so one organization's owner could rotate the key that signed
        // another's tokens, and a verifier could not tell their tokens apart. Each organization and environment now
        // has its own; the shared ones sign nothing more and stay verify-only while their tokens may be valid
        // (the longest envelope lifetime in their environment plus TokenLifetimePolicy.retirementGrace, five minutes).
        migrator.registerMigration("v4-issuers-per-organization") { db in
            try db.execute(
                sql: """
                    ALTER TABLE signing_keys ADD COLUMN org_id TEXT REFERENCES organizations(id);
                    DROP INDEX signing_keys_one_active;
                    CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (org_id, environment)
                        WHERE retired_at IS NULL;
                    UPDATE signing_keys SET
                        retired_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                        verify_until = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
                            + 1000 * (SELECT COALESCE(MAX(max_ttl_seconds), 0) FROM envelopes
                                WHERE envelopes.environment = signing_keys.environment)
                            + 300000
                        WHERE retired_at IS NULL;
                    """)
        }
        // Dashboard sessions lived in one process's memory, so replicas behind a load balancer needed sticky
        // sessions. A session is found by its token's SHA-256; the token itself is never stored. Sessions are
        // not audited records and end on their own, so they reference no key or organization row.
        migrator.registerMigration("v5-dashboard-sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dashboard_sessions (
                        id BLOB PRIMARY KEY,
                        key_hash BLOB NOT NULL,
                        key_id TEXT NOT NULL,
                        org_id TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX dashboard_sessions_by_key ON dashboard_sessions (key_id, created_at);
                    CREATE INDEX dashboard_sessions_by_organization ON dashboard_sessions (org_id, created_at);
                    """)
        }
        // Envelopes hold UCAN 1.0 command grants (command → policy, DAG-JSON) beside their 0.10 capabilities; an
        // envelope from before has none. An envelope with only grants stores its capabilities as `{}`.
        migrator.registerMigration("v6-envelope-commands") { db in
            try db.execute(sql: "ALTER TABLE envelopes ADD COLUMN commands TEXT NOT NULL DEFAULT '{}'")
        }
        // Envelopes name the services OAuth clients may ask tokens for by URL (resource URL → DID, JSON).
        migrator.registerMigration("v7-envelope-audiences") { db in
            try db.execute(sql: "ALTER TABLE envelopes ADD COLUMN audiences TEXT NOT NULL DEFAULT '{}'")
        }
        return migrator
    }
}
