#!/usr/bin/env bash
# pgadvise logs vs pgBadger vs `wc -l`, in one run, on one generated stderr log.
#   bash Benchmarks/logs/run.sh [size-in-MB, default 400] [pgbadger-slice-in-MB, default 10]
# Builds pgadvise in release mode with its own scratch path (SCRATCH, default .build-bench-logs).
# pgBadger reads under 1 MB/s here, so it is timed on the first N MB of the same file (its
# throughput does not depend on the file's length); everything else reads the whole file.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-400}
slice_mb=${2:-10}
scratch=${SCRATCH:-.build-bench-logs}
work=${BENCH_DIR:-/tmp/pgadvise-logs-bench}
mkdir -p "$work"
if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi

log="$work/bench-${size_mb}mb.log"
if [ ! -s "$log" ]; then
  python3 Benchmarks/logs/generate.py $((size_mb * 1024 * 1024)) > "$log"
fi
slice="$work/bench-slice-${slice_mb}mb.log"
head -c $((slice_mb * 1024 * 1024)) "$log" | sed '$d' > "$slice"   # whole lines only

swift build -c release --scratch-path "$scratch" --product pgadvise >&2
bin="$scratch/release/pgadvise"
bytes=$(stat -c %s "$log")
slice_bytes=$(stat -c %s "$slice")
slice_label=$(awk -v b="$slice_bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
prefix='%m [%p] user=%u,db=%d,app=%a,client=%h '
cat "$log" > /dev/null   # from the page cache, like every run below

# Best of three; prints "<seconds> <max RSS kB>".
measure() {
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt"
    read -r t m < "$work/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
  done
  echo "$best $rss"
}
measure_once() {
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt"
  cat "$work/time.txt"
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / (s > 0 ? s : 0.001) }'; }

read -r wc_s wc_rss < <(measure wc -l "$log")
read -r one_s one_rss < <(measure "$bin" logs --jobs 1 --format json "$log")
read -r two_s two_rss < <(measure "$bin" logs --jobs 2 --format json "$log")
read -r pgb1_s pgb1_rss < <(measure_once pgbadger -j 1 -f stderr --prefix "$prefix" -o "$work/pgbadger-j1.html" "$slice")
read -r pgb2_s pgb2_rss < <(measure_once pgbadger -j 2 -f stderr --prefix "$prefix" -o "$work/pgbadger-j2.html" "$slice")

one=$(mbps "$bytes" "$one_s"); two=$(mbps "$bytes" "$two_s")
pgb1=$(mbps "$slice_bytes" "$pgb1_s"); pgb2=$(mbps "$slice_bytes" "$pgb2_s")
cat <<TABLE
$(nproc) cores, $(date -u +%Y-%m-%d), log of $((bytes / 1048576)) MB ($(wc -l < "$log") lines), pgBadger on its first $slice_label MB

| Reader | Time (s) | Throughput (MB/s) | Peak RSS (MB) |
|---|---:|---:|---:|
| \`wc -l\` (read limit) | $wc_s | $(mbps "$bytes" "$wc_s") | $((wc_rss / 1024)) |
| pgadvise logs --jobs 1 | $one_s | $one | $((one_rss / 1024)) |
| pgadvise logs --jobs 2 | $two_s | $two | $((two_rss / 1024)) |
| pgBadger -j 1 ($slice_label MB slice) | $pgb1_s | $pgb1 | $((pgb1_rss / 1024)) |
| pgBadger -j 2 ($slice_label MB slice) | $pgb2_s | $pgb2 | $((pgb2_rss / 1024)) |

pgadvise --jobs 1 vs pgBadger -j 1: $(awk -v a="$one" -v b="$pgb1" 'BEGIN{printf "%.0fx", a/b}'); \
--jobs 2 vs --jobs 1: $(awk -v a="$two" -v b="$one" 'BEGIN{printf "%.2fx", a/b}')
TABLE
