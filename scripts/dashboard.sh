#!/usr/bin/env bash
# The dashboard in a real headless Chromium: Debian's chromium and chromium-driver (install-deps.sh),
# Selenium from PyPI in a virtual environment. Screenshots go to .build/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.build/dashboard-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check selenium==4.47.0
fi
charter="${CHARTER:-$(swift build --show-bin-path)/charter}"
[ -x "$charter" ] || swift build --product charter
# Selenium must use the installed driver and browser, never download its own.
export SE_OFFLINE=true
exec "$venv/bin/python" scripts/dashboard_test.py "$charter" .build/screenshots
