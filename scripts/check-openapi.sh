#!/usr/bin/env bash
# Validates Specs/openapi.yaml (or the file given) against the OpenAPI 3.1 specification
# (openapi-spec-validator); exits non-zero when it is invalid.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/openapi-venv
version=0.9.0
if [ ! -x "$venv/bin/python" ] ||
    [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("openapi-spec-validator"))' 2>/dev/null)" != "$version" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$version"
fi
exec "$venv/bin/python" - "${1:-Specs/openapi.yaml}" <<'PY'
import sys

from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

path = sys.argv[1]
try:
    spec, _ = read_from_filename(path)
    validate(spec)
except Exception as error:  # a YAML error or a validation error: either way the spec is not usable
    message = (str(error).splitlines() or [type(error).__name__])[0]
    if len(message) > 200:
        message = message[:200] + "…"
    where = getattr(error, "json_path", None)
    print(f"{path}: INVALID: {message}" + (f" (at {where})" if where else ""), file=sys.stderr)
    sys.exit(1)
print(f"{path}: valid OpenAPI {spec.get('openapi')} ({len(spec.get('paths', {}))} paths)")
PY
