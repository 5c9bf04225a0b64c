#!/usr/bin/env bash
# Runs Sentinel's whole test suite. Installs what the suite needs when it is missing (as root):
# PostgreSQL's server binaries, which the test harness starts itself; Go with golang.org/x/mod;
# and a Python venv with the pinned PyPI verifiers.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
# The audit log's interop tests verify our output with tools we did not write: Go's
# golang.org/x/mod/sumdb/{note,tlog} (Debian) and PyPI's securesystemslib and in-toto-attestation.
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb ] || missing+=(golang-golang-x-mod-dev)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# One venv for every Python peer the tests drive (verifiers, SDK clients, third-party servers):
# each crate pins its own in a requirements.txt under its tests/.
venv="${SENTINEL_INTEROP_VENV:-/var/tmp/sentinel-interop-venv}"
mapfile -t requirements < <(find crates -path '*/tests/*' -name requirements.txt | sort)
wanted=$(cat "${requirements[@]}")
if [ "$wanted" != "$(cat "$venv/.requirements" 2>/dev/null)" ]; then
  echo "==> preparing the Python venv in $venv (${requirements[*]})"
  python3 -m venv "$venv"
  for r in "${requirements[@]}"; do
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$r"
  done
  printf '%s' "$wanted" >"$venv/.requirements"
fi
export SENTINEL_INTEROP_PYTHON="$venv/bin/python"

echo "==> cargo test --workspace"
cargo test --workspace --locked "$@"
