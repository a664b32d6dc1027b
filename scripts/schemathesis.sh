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
"$charter" serve --database "$directory/charter.db" --port 0 >"$directory/out" 2>"$directory/log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$directory"' EXIT
for _ in $(seq 1 100); do grep -q "charter listening" "$directory/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$directory/out" | head -1)
owner=$(grep -o 'chr_live_[A-Za-z0-9_]*' "$directory/out" | head -1)
[ -n "$url" ] && [ -n "$owner" ] || { echo "charter serve did not start" >&2; exit 1; }

# Revocations run last, in a pass of their own: the stateful phase follows links to the owner key's own
# id and would revoke the key the other operations authenticate with.
total=0
run() {
    "$venv/bin/schemathesis" run Specs/openapi.yaml --url "$url" -H "Authorization: Bearer $owner" \
        --checks all --max-examples "$examples" --seed 20261124 --continue-on-failure "$@" \
        | tee "$directory/report" | tail -n 25
    local cases
    cases=$(grep -Eo '^ *[0-9]+ generated' "$directory/report" | grep -Eo '[0-9]+' | head -1)
    total=$((total + ${cases:-0}))
}
run --exclude-path-regex '/revoke$'
run --include-path-regex '/revoke$'
echo "schemathesis: $total cases generated in all"
[ "$total" -ge 1000 ] || { echo "fewer than 1,000 cases" >&2; exit 1; }
