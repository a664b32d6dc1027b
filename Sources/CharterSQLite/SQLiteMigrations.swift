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
        return migrator
    }
}
