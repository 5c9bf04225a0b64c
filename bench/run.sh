#!/usr/bin/env bash
# Builds Sentinel and the benchmarks in release and runs them all, then prints a summary.
# Results and how to read them: docs/benchmarks.md.
#
#   bench/run.sh                 # full run (about 3 minutes: each benchmark binary stays under a minute or two)
#   QUICK=1 bench/run.sh         # shorter runs, for a smoke test
#
# Environment: CARGO_TARGET_DIR (default /var/tmp/sentinel-target), RUNS, DURATION,
# CONNECTIONS, ITERATIONS, SOAK_MINUTES.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/sentinel-target}"
if [[ "${QUICK:-0}" == 1 ]]; then
  RUNS="${RUNS:-1}" DURATION="${DURATION:-1}" ITERATIONS="${ITERATIONS:-1000}"
fi
RUNS="${RUNS:-3}"
DURATION="${DURATION:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
ITERATIONS="${ITERATIONS:-20000}"
BIN="$CARGO_TARGET_DIR/release"
LOG="$(mktemp -d)"

echo "== build (release)"
cargo build --release -q -p sentinel-cli -p sentinel-mcp -p sentinel-bench

echo "== machine"
echo "date:  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "nproc: $(nproc)"
echo "cpu:   $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "load:  $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== policy bundle (100 rules) compiles and decides as expected"
cargo test --release -q -p sentinel-bench 2>&1 | grep -E "test result|passed|failed" || true

echo "== in-process decide()"
"$BIN/decide" --iterations "$ITERATIONS" --runs "$RUNS" --max-seconds 2 | tee "$LOG/decide.txt"
echo "== in-process decide(), 100 rules, without the rule index (the same binary, for the ratio)"
"$BIN/decide" --iterations "$ITERATIONS" --runs "$RUNS" --max-seconds 2 --only 100 --rule-index false | tee "$LOG/decide-no-index.txt"

echo "== HTTP /v1/check"
"$BIN/check_load" --duration "$DURATION" --runs "$RUNS" --connections "$CONNECTIONS" \
  --sentinel "$BIN/sentinel" | tee "$LOG/check.txt"

echo "== LLM gateway added latency (vs the mock directly; LiteLLM too when /var/tmp/litellm-venv has it)"
"$BIN/llm_load" --duration "$DURATION" --runs "$RUNS" --connections 16 | tee "$LOG/llm.txt"
echo "== durable audit appends: the audit journal (default), then SQLite's own commit in the same run"
"$BIN/audit_append" --seconds "$DURATION" --runs "$RUNS" | tee "$LOG/append.txt"
"$BIN/audit_append" --seconds "$DURATION" --runs "$RUNS" --audit-journal false | tee "$LOG/append-baseline.log"
echo "== the disk's floor: one durable 4 KiB write (what each unbatched audit commit waits for)"
"$BIN/disk_sync" --writes 1000 --runs "$RUNS" | tee "$LOG/disk.txt"
echo "== MCP gateway: tools/call added latency vs the same upstream directly"
"$BIN/mcp_latency" --calls "$(( ITERATIONS / 10 ))" --loads 1,4,16 | tee "$LOG/mcp.txt"

echo "== memory: RSS idle and under /v1/check (SOAK_MINUTES, default 1; DESIGN.md's soak is 30)"
"$BIN/memory_soak" --minutes "${SOAK_MINUTES:-1}" --rate 500 --sample-seconds 20 \
  --sentinel "$BIN/sentinel" | tee "$LOG/memory.txt"

echo
echo "== summary (medians of $RUNS runs; targets from DESIGN.md)"
kv() { grep -h '^SUMMARY' "$LOG"/*.txt | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == "<=") ? v <= t : v >= t; print ok ? "met" : "NOT met" }'; }
printf '%-42s %12s %14s  %s\n' "what" "result" "target" "verdict"
row() { printf '%-42s %12s %14s  %s\n' "$1" "$2" "$3 $4" "$(verdict "$2" "$3" "$4")"; }
row "in-process decide() p50, sre bundle (µs)" "$(kv sre_p50_us)" "<=" 20
row "in-process decide() p50, 100 rules (µs)" "$(kv decide_p50_us)" "<=" 20
row "POST /v1/check max throughput (/s)" "$(kv check_per_s)" ">=" 20000
row "POST /v1/check p99 at half load (ms)" "$(kv open_p99_ms)" "<=" 5
row "durable audit appends, group commit (/s)" "$(kv audit_appends_per_s)" ">=" 20000
row "LLM gateway added p50 at half load (µs)" "$(kv sentinel_50%_sentinel_added_p50_us)" "<=" 100
row "LLM gateway added p99 at half load (µs)" "$(kv sentinel_50%_sentinel_added_p99_us)" "<=" 300
row "RSS idle after start (MB)" "$(kv rss_idle_mb)" "<=" 50
echo "check / health throughput ratio: $(kv check_vs_health)  (health $(kv health_per_s)/s, whoami $(kv whoami_per_s)/s)"
echo "server CPU per check: $(kv server_cpu_us_per_check) µs (per health: $(kv server_cpu_us_per_health) µs)"
echo "decide 100 rules vs 2-rule sre bundle: x$(kv ratio_100_vs_sre); policy evaluation share of decide: $(kv evaluate_share)"
echo "full output: $LOG"
