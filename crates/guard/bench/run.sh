#!/usr/bin/env bash
# Throughput of sentinel-guard vs detect-secrets on the same corpora, in the same run.
# Usage: bench/run.sh   (from the crate root; needs cargo, python3, pip, apt-get download)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash bench/make_bench_corpora.sh >/dev/null
files=(bench/corpora/prose.txt bench/corpora/code.txt bench/corpora/dense.txt)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/sentinel-target}"
echo "== sentinel-guard (Guard::scan, all detectors, 64 KiB chunks, median of 7 rounds of at least 0.3 s)"
cargo bench -j 1 --bench throughput -- "${files[@]}" 2>/dev/null
echo "== detect-secrets $(python3 -c 'import detect_secrets; print(detect_secrets.__version__.VERSION)' 2>/dev/null || true) (default plugins, median of 3)"
python3 -m pip install -q detect-secrets >/dev/null 2>&1 || true
python3 bench/detect_secrets_bench.py "${files[@]}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
