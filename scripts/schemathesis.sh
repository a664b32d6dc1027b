#!/usr/bin/env bash
# Hostile HTTP input: schemathesis (PyPI) generates requests from Specs/openapi.yaml against a real
# `charter serve` on loopback and checks every response against the spec: no 5xx, no undocumented
# status or shape, 405 with Allow for undeclared methods.
#
#   scripts/schemathesis.sh [EXAMPLES_PER_OPERATION]     (default 60; prints the number of cases)
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${1:-60}
venv=.build/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
charter="${CHARTER:-$(swift build --show-bin-path)/charter}"
[ -x "$charter" ] || swift build --product charter

directory=$(mktemp -d /tmp/charter-schemathesis.XXXXXX)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$directory"' EXIT

# Each pass gets a fresh server, database and owner key: the stateful phase follows links to the owner
# key's own id, so a pass that edits or revokes keys can narrow (say, to one request a minute) or revoke
# the very key it authenticates with, and everything after it would only test the refusal.
total=0
run() {
    local name=$1
    shift
    local data="$directory/$name"
    mkdir -p "$data"
    "$charter" serve --database "$data/charter.db" --port 0 >"$data/out" 2>"$data/log" &
    server=$!
    for _ in $(seq 1 100); do grep -q "charter listening" "$data/out" 2>/dev/null && break; sleep 0.1; done
    local url owner
    url=$(grep -o 'http://[0-9.:]*' "$data/out" | head -1)
    owner=$(grep -o 'chr_live_[A-Za-z0-9_]*' "$data/out" | head -1)
    [ -n "$url" ] && [ -n "$owner" ] || { echo "charter serve did not start" >&2; exit 1; }
    echo "schemathesis: pass '$name'"
    "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run Specs/openapi.yaml --url "$url" \
        -H "Authorization: Bearer $owner" \
        --checks all --max-examples "$examples" --seed 20261124 --continue-on-failure "$@" \
        | tee "$data/report" | tail -n 25
    kill $server
    wait $server 2>/dev/null || true
    server=""
    local cases
    cases=$(grep -Eo '^ *[0-9]+ generated' "$data/report" | grep -Eo '[0-9]+' | head -1)
    total=$((total + ${cases:-0}))
    # Every refusal is audited: say how many answers were 429s, which test the refusal, not the operation.
    python3 - "$data/charter.db" "$name" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
(audited,) = db.execute("SELECT COUNT(*) FROM audit_records").fetchone()
(limited,) = db.execute("SELECT COUNT(*) FROM audit_records WHERE reason = 'rate_limited'").fetchone()
print(f"schemathesis: pass '{sys.argv[2]}': {limited} of {audited} audited requests were refused as rate limited")
PY
}
run "everything but key edits and revocations" --exclude-path-regex '/revoke$' --exclude-method PATCH
run "key edits" --include-path-regex '^/v1/keys' --exclude-path-regex '/revoke$'
run "revocations" --include-path-regex '/revoke$'
echo "schemathesis: $total cases generated in all"
[ "$total" -ge 1000 ] || { echo "fewer than 1,000 cases" >&2; exit 1; }
