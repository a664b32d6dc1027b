#!/usr/bin/env bash
# The TypeScript SDK (SDKs/typescript): compiles it with tsc (Debian's node-typescript, which
# scripts/install-deps.sh installs) and runs its `node --test` suite against a real `charter serve` (the binary in
# $CHARTER, else the one `swift build` made; this script only reads that path, it never builds).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tsc >/dev/null 2>&1 || { echo "typescript-sdk: no tsc: run scripts/install-deps.sh" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "typescript-sdk: Node >= 20 is needed (found $(node --version))" >&2
    exit 1
fi

charter="${CHARTER:-$(swift build --show-bin-path)/charter}"
if [ ! -x "$charter" ]; then
    echo "typescript-sdk: no charter binary at $charter (build it first, or set CHARTER)" >&2
    exit 1
fi

cd SDKs/typescript
rm -rf dist
echo "typescript-sdk: tsc ($(tsc --version))"
tsc -p tsconfig.json
echo "typescript-sdk: node --test"
CHARTER="$charter" node --test dist/test/*.test.js
