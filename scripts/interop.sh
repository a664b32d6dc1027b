#!/usr/bin/env bash
# Cross-checks Charter's tokens against an independent implementation (PyNaCl + hashlib + blake3 + libipld).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/interop-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import nacl, blake3, libipld' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check pynacl==1.6.2 blake3==1.0.11 libipld==3.5.0
fi
charter="${CHARTER:-$(swift build --show-bin-path)/charter}"
[ -x "$charter" ] || swift build --product charter
exec "$venv/bin/python" scripts/interop.py "$charter"
