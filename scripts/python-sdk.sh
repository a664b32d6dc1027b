#!/usr/bin/env bash
# The Python SDK (SDKs/python): installs it into a fresh venv, type-checks it with mypy --strict, and runs its
# pytest suite against a real `charter serve` (the binary in $CHARTER, else the one `swift build` made).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/python-sdk-venv
# starlette, fastapi and mcp are the optional integrations' (charter_sdk.asgi, .fastapi, .mcp); uvicorn serves the
# examples, and httpx2 (mcp's HTTP client) carries the MCP example client's token. authlib, PyJWT and cryptography
# are the independent OAuth client and JWT library the tests check Charter's token endpoint and JWKS with.
pins=(pynacl==1.6.2 httpx==0.28.1 blake3==1.0.11 libipld==3.5.0 pytest==9.2.0 mypy==2.4.1
      setuptools==84.2.1 wheel==0.48.0
      starlette==1.10.0 fastapi==0.165.0 mcp==2.3.0 pydantic==2.14.4 uvicorn==0.55.0 httpx2==2.17.0
      authlib==1.9.10 joserfc==1.8.0 pyjwt==2.15.1 cryptography==51.0.1)
modules='nacl, httpx, blake3, libipld, pytest, mypy, setuptools, wheel, starlette, fastapi, mcp, uvicorn, '
modules+='httpx2, authlib, jwt, cryptography'
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import $modules" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
fi
# The package itself, as a user installs it (no build isolation: setuptools and wheel are pinned above).
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall \
    ./SDKs/python
rm -rf SDKs/python/build SDKs/python/src/*.egg-info
"$venv/bin/pip" check --disable-pip-version-check >/dev/null  # its declared dependencies are all there

charter="${CHARTER:-$(swift build --show-bin-path)/charter}"
if [ ! -x "$charter" ]; then
    echo "python-sdk: no charter binary at $charter (build it first, or set CHARTER)" >&2
    exit 1
fi

echo "python-sdk: mypy --strict (the package and its examples)"
(cd SDKs/python && "../../$venv/bin/mypy" --strict --cache-dir ../../.build/python-sdk-mypy-cache src/charter_sdk examples)
echo "python-sdk: pytest"
CHARTER="$charter" "$venv/bin/python" -m pytest -q -p no:cacheprovider SDKs/python/tests
