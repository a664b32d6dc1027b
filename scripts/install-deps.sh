#!/usr/bin/env bash
# Installs what Charter needs on a fresh Debian machine, and nothing when it is all there.
set -euo pipefail

packages=()
pkg-config --exists libsodium 2>/dev/null || packages+=(libsodium-dev)
pkg-config --exists sqlite3 2>/dev/null || packages+=(libsqlite3-dev)
command -v python3 >/dev/null || packages+=(python3)
# The test suite runs the store contract and the replica tests against a throwaway PostgreSQL server.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
command -v openssl >/dev/null || packages+=(openssl)
# The dashboard is tested in a real headless browser.
command -v chromium >/dev/null || packages+=(chromium)
command -v chromedriver >/dev/null || packages+=(chromium-driver)
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
# The TypeScript SDK is compiled with Debian's tsc and tested with `node --test` (Node 20 or later).
command -v node >/dev/null || packages+=(nodejs)
command -v tsc >/dev/null || packages+=(node-typescript)
# Extra tools by name, for the targets that need them (e.g. `install-deps.sh wrk` for benchmarks).
for tool in "$@"; do
    command -v "$tool" >/dev/null || packages+=("$tool")
done

if ((${#packages[@]})); then
    echo "installing: ${packages[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
