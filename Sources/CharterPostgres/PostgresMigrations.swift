/// The schema, as named forward-only migrations: a shipped migration is never edited, only followed.
///
/// Column names and encodings match the SQLite store's, so both decode through `StoredRow`: times are BIGINT
/// milliseconds since the epoch, lists are JSON arrays of strings in TEXT, hashes are BYTEA. Constraint names
/// are spelled out because ``PostgresStore`` maps them to conflict messages.
enum PostgresMigrations {
    static let all: [(name: String, sql: String)] = [
        (
            "v1-organizations-apps-keys",
            """
            CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE apps (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                name TEXT NOT NULL,
                environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                created_at BIGINT NOT NULL,
                created_by TEXT,
                CONSTRAINT apps_unique_name UNIQUE (org_id, environment, name)
            );
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                app_id TEXT NOT NULL REFERENCES apps(id),
                environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                label TEXT NOT NULL,
                prefix TEXT NOT NULL,
                role TEXT,
                permissions TEXT NOT NULL,
                secret_hash BYTEA NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                created_by TEXT,
                expires_at BIGINT,
                revoked_at BIGINT,
                revoked_by TEXT,
                last_used_at BIGINT,
                usage_count BIGINT NOT NULL DEFAULT 0,
                ip_allowlist TEXT NOT NULL,
                allowed_endpoints TEXT NOT NULL,
                rate_limit_per_minute BIGINT,
                version BIGINT NOT NULL,
                CONSTRAINT api_keys_unique_label UNIQUE (app_id, label)
            );
            CREATE INDEX api_keys_by_org ON api_keys (org_id, created_at);
            """
        ),
        (
            "v1-audit",
            """
            -- seq is handed out from audit_counter, whose one row is also the lock every writing transaction
            -- takes first: commits are serialized, so each chain's head is read after the previous write
            -- committed (no fork), and a rolled-back write gives its numbers back (no gap).
            CREATE TABLE audit_counter (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                last_seq BIGINT NOT NULL
            );
            INSERT INTO audit_counter (id, last_seq) VALUES (1, 0);
            CREATE TABLE audit_records (
                seq BIGINT PRIMARY KEY,
                org_id TEXT,
                time_ms BIGINT NOT NULL,
                environment TEXT,
                key_id TEXT,
                action TEXT NOT NULL,
                target TEXT,
                outcome TEXT NOT NULL,
                reason TEXT,
                ip TEXT,
                request_id TEXT,
                details TEXT NOT NULL,
                previous_hash BYTEA NOT NULL,
                hash BYTEA NOT NULL
            );
            CREATE INDEX audit_by_org ON audit_records (org_id, seq);
            CREATE INDEX audit_by_org_key ON audit_records (org_id, key_id, seq);
            CREATE INDEX audit_by_org_action ON audit_records (org_id, action, seq);
            """
        ),
        (
            "v2-envelopes-signing-keys-tokens",
            """
            CREATE TABLE envelopes (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id),
                app_id TEXT NOT NULL REFERENCES apps(id),
                environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                name TEXT NOT NULL,
                capabilities TEXT NOT NULL,
                max_ttl_seconds BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT,
                revoked_at BIGINT,
                revoked_by TEXT,
                CONSTRAINT envelopes_unique_name UNIQUE (app_id, name)
            );
            CREATE INDEX envelopes_by_org ON envelopes (org_id, app_id, created_at);
            -- sealed_seed is the secret key sealed under the master key, which is never stored here.
            CREATE TABLE signing_keys (
                id TEXT PRIMARY KEY,
                environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                did TEXT NOT NULL UNIQUE,
                sealed_seed BYTEA NOT NULL,
                created_at BIGINT NOT NULL,
                retired_at BIGINT,
                verify_until BIGINT
            );
            CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (environment) WHERE retired_at IS NULL;
            -- What revoking by CID needs; never the token itself.
            CREATE TABLE minted_tokens (
                cid TEXT PRIMARY KEY,
                org_id TEXT NOT NULL,
                app_id TEXT NOT NULL,
                environment TEXT NOT NULL,
                envelope_id TEXT NOT NULL,
                key_id TEXT NOT NULL,
                signing_key_id TEXT NOT NULL,
                audience TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                revoked_at BIGINT
            );
            CREATE INDEX minted_tokens_by_expiry ON minted_tokens (expires_at);
            -- seq comes from a sequence, but only ever inside a transaction holding the audit_counter lock,
            -- so entries commit in seq order and a reader resuming after seq N never misses a later commit.
            CREATE TABLE revocations (
                seq BIGSERIAL PRIMARY KEY,
                org_id TEXT NOT NULL,
                environment TEXT NOT NULL CHECK (environment IN ('live', 'test')),
                kind TEXT NOT NULL CHECK (kind IN ('token', 'envelope')),
                subject TEXT NOT NULL UNIQUE,
                issuer TEXT NOT NULL,
                challenge BYTEA NOT NULL,
                revoked_at BIGINT NOT NULL,
                covers_until BIGINT NOT NULL
            );
            CREATE INDEX revocations_by_expiry ON revocations (covers_until);
            """
        ),
        // Issuers were shared by every organization (see the SQLite migration of the same name): each organization
        // and environment now has its own, and the shared ones stay verify-only while their tokens may be valid.
        (
            "v4-issuers-per-organization",
            """
            ALTER TABLE signing_keys ADD COLUMN org_id TEXT REFERENCES organizations(id);
            DROP INDEX signing_keys_one_active;
            CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (org_id, environment) WHERE retired_at IS NULL;
            UPDATE signing_keys SET
                retired_at = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint,
                verify_until = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint
                    + 1000 * (SELECT COALESCE(MAX(max_ttl_seconds), 0) FROM envelopes
                        WHERE envelopes.environment = signing_keys.environment)
                    + 300000
                WHERE retired_at IS NULL;
            """
        ),
        // Dashboard sessions, so any replica serves a signed-in user (see the SQLite migration of the same name).
        (
            "v5-dashboard-sessions",
            """
            CREATE TABLE dashboard_sessions (
                id BYTEA PRIMARY KEY,
                key_hash BYTEA NOT NULL,
                key_id TEXT NOT NULL,
                org_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_seen BIGINT NOT NULL
            );
            CREATE INDEX dashboard_sessions_by_key ON dashboard_sessions (key_id, created_at);
            CREATE INDEX dashboard_sessions_by_organization ON dashboard_sessions (org_id, created_at);
            """
        ),
        // Rate limits were one bucket per key in each replica, so N replicas let a key make N times its limit.
        // Replicas now lease calls from one bucket per key (see RateLimiter); SQLite, one process, needs no table.
        (
            "v6-rate-limit-buckets",
            """
            CREATE TABLE rate_limit_buckets (
                key_id TEXT PRIMARY KEY,
                tokens DOUBLE PRECISION NOT NULL,
                updated_at BIGINT NOT NULL
            );
            """
        ),
        // Envelopes hold UCAN 1.0 command grants beside their 0.10 capabilities (see the SQLite migration).
        (
            "v7-envelope-commands",
            """
            ALTER TABLE envelopes ADD COLUMN commands TEXT NOT NULL DEFAULT '{}';
            """
        ),
        // Envelopes name the services OAuth clients may ask tokens for by URL (see the SQLite migration).
        (
            "v8-envelope-audiences",
            """
            ALTER TABLE envelopes ADD COLUMN audiences TEXT NOT NULL DEFAULT '{}';
            """
        ),
        // Every write moves the counter's version when it takes the lock, so a mint batch can read without the
        // lock and then commit only if no write committed since (PostgresStore.recordMints).
        (
            "v9-write-version",
            """
            ALTER TABLE audit_counter ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
            """
        ),
    ]
}
