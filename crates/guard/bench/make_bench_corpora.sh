#!/usr/bin/env bash
# Build the three throughput corpora in bench/corpora/ (not committed; all fetched or generated):
#   prose.txt  - English prose: Debian package `fortunes` (fortune-mod data, BSD-style licence)
#   code.txt   - source code: the Python standard library of the local python3 (PSF licence)
#   dense.txt  - finding-dense text generated with Faker (MIT), seeded, see gen_dense.py
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/corpora"
mkdir -p "$out" "$out/tmp"
cd "$out/tmp"
if [ ! -s "$out/prose.txt" ]; then
  apt-get download fortunes >/dev/null 2>&1
  dpkg-deb -x fortunes_*.deb fx
  f=fx/usr/share/games/fortunes
  cat $f/people $f/wisdom $f/education $f/science $f/work $f/miscellaneous $f/food $f/love \
      $f/definitions $f/songs-poems $f/law $f/politics $f/humorists $f/platitudes $f/computers $f/news \
    | grep -v '^%$' > "$out/prose.txt"
fi
if [ ! -s "$out/code.txt" ]; then
  stdlib="$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"
  { cat "$stdlib"/*.py || true; } | head -c 4000000 > "$out/code.txt" || true
fi
if [ ! -s "$out/dense.txt" ]; then
  python3 -m pip install -q faker >/dev/null 2>&1 || true
  python3 "$here/gen_dense.py" > "$out/dense.txt"
fi
rm -rf "$out/tmp"
wc -c "$out"/*.txt
