#!/usr/bin/env bash
# Peak memory and time of `pgadvise logs` on logs whose statement texts are mostly distinct (issue 14):
#   1M statements over 200,000 distinct texts (schema-per-tenant x partition-per-day names)
#   1M statements over 20,000 tenant schemas (60,000 distinct texts)
#   1M statements over 40,000 tenant schemas (120,000): the peak RSS it adds over the previous log,
#   divided by the 60,000 fingerprints it adds, is the memory per distinct fingerprint
# Usage: bash Benchmarks/logs/memory.sh [pgadvise binary ...]
# Without a binary, builds this checkout in release mode (SCRATCH, default .build-bench-logs). Give two
# binaries (before and after a change) to compare them in one run. Each run is measured once with
# /usr/bin/time -v (peak RSS, wall time); --jobs 1 and --jobs 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BENCH_DIR:-/tmp/pgadvise-logs-memory}
mkdir -p "$work"
if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
  scratch=${SCRATCH:-.build-bench-logs}
  swift build -c release --scratch-path "$scratch" --product pgadvise >&2
  binaries=("$scratch/release/pgadvise")
fi
for mode in partitions tenants; do
  log="$work/distinct-$mode-1m.log"
  [ -s "$log" ] || python3 Benchmarks/logs/generate_distinct.py "$mode" 1000000 > "$log"
done
[ -s "$work/distinct-tenants40k-1m.log" ] || python3 Benchmarks/logs/generate_distinct.py tenants 1000000 40000 > "$work/distinct-tenants40k-1m.log"
echo "| Binary | Log | Jobs | Time (s) | Peak RSS (MB) | JSON (MB) |"
echo "|---|---|---:|---:|---:|---:|"
declare -A peak
for bin in "${binaries[@]}"; do
  for mode in partitions tenants tenants40k; do
    log="$work/distinct-$mode-1m.log"
    for jobs in 1 2; do
      /usr/bin/time -v -o "$work/time.txt" "$bin" logs --jobs "$jobs" --format json "$log" > "$work/out.json" 2> "$work/stderr.txt" || true
      rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time.txt")
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$work/time.txt")
      size=$(awk -v b="$(stat -c %s "$work/out.json")" 'BEGIN { printf "%.2f", b / 1048576 }')
      peak["$bin $mode $jobs"]=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
      echo "| $bin | $mode ($(( $(stat -c %s "$log") / 1048576 )) MB) | $jobs | $wall | $rss | $size |"
    done
  done
done
echo
echo "| Binary | Jobs | Peak RSS per distinct fingerprint (bytes, tenants40k - tenants over 60,000) |"
echo "|---|---:|---:|"
for bin in "${binaries[@]}"; do
  for jobs in 1 2; do
    echo "| $bin | $jobs | $(( (${peak["$bin tenants40k $jobs"]} - ${peak["$bin tenants $jobs"]}) * 1024 / 60000 )) |"
  done
done
