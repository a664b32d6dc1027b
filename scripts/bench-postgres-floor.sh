#!/usr/bin/env bash
# The PostgreSQL floor under a mint: PostgreSQL's own CPU per durably stored record of the size a mint stores
# (1,087 bytes), 32 records per transaction (one commit and fsync each), from 16 pgbench clients; no indexes
# but the primary key, no Charter. Run it as `./scripts/postgres.sh run scripts/bench-postgres-floor.sh`.
set -euo pipefail
url=${CHARTER_TEST_POSTGRES_URL:?run it through scripts/postgres.sh run}
psql "$url" -qc "CREATE TABLE IF NOT EXISTS floor (id bigserial PRIMARY KEY, record bytea NOT NULL)"
script=$(mktemp)
trap 'rm -f "$script"' EXIT
# 34 hex md5s (544 bytes) and one more byte: 1,087 random-looking bytes, which PostgreSQL does not compress.
echo "INSERT INTO floor (record) SELECT decode(repeat(md5(random()::text), 34), 'hex') || '\\x00'::bytea
    FROM generate_series(1, 32);" | tr '\n' ' ' >"$script"
# CPU ticks of every postgres process, with the backends each has reaped (utime, stime, cutime, cstime).
ticks() {
    for pid in $(pgrep -x postgres); do awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || true; done |
        awk '{ sum += $1 } END { print sum + 0 }'
}
before=$(ticks)
output=$(pgbench -n -c 16 -j 2 -T 8 -f "$script" "$url" 2>&1)
after=$(ticks)
transactions=$(echo "$output" | awk '/number of transactions actually processed/ { print $NF }' | cut -d/ -f1)
echo "$output" | grep -E '^tps'
python3 -c "
ticks, records = $after - $before, $transactions * 32
print(f'PostgreSQL CPU per record: {ticks / $(getconf CLK_TCK) * 1e6 / records:.1f} µs ({records} records)')"
