#!/usr/bin/env bash
# Runs Sentinel's whole test suite. Installs what the suite needs when it is missing (as root,
# from Debian's packages): PostgreSQL's server binaries, which the test harness starts itself.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: please install: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "==> installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> cargo test --workspace"
cargo test --workspace --locked "$@"
