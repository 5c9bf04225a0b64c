#!/usr/bin/env bash
# Installs what the interop tests need (run as root on Debian):
#   Go + golang.org/x/mod from Debian, and a Python venv with the pinned PyPI tools.
# Then: SENTINEL_INTEROP_PYTHON=/var/tmp/sentinel-interop-venv/bin/python cargo test -j 1
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${SENTINEL_INTEROP_VENV:-/var/tmp/sentinel-interop-venv}"
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then
  apt-get update
  apt-get install -y golang-go golang-golang-x-mod-dev
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/python/requirements.txt"
echo "interop tools ready; export SENTINEL_INTEROP_PYTHON=$venv/bin/python"
