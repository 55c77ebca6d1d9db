#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each one in turn with a corpus seeded from fixtures/.
#   Benchmarks/fuzz/run.sh [--seconds S | --runs N] [--processes P] [--asan] [TARGET...]
# Defaults: 60 seconds per target, every target, one process. Crash inputs go to
# Benchmarks/fuzz/crashes/TARGET/; the grown corpus stays in .build/fuzz-corpus/TARGET (reused by the
# next run). With P processes (one per core) they share that corpus and split --runs N between them.
# Prints one line per target: executions (all processes), exec/s (summed), peak RSS (the largest) and
# crash files; exits 1 if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi

# Swift's own crash reporter would take SIGILL (a trap) before libFuzzer could save the input.
export SWIFT_BACKTRACE=enable=no
limit=(-max_total_time=60)
sanitizers=fuzzer
scratch=.build
processes=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) limit=(-max_total_time="$2"); shift 2 ;;
        --runs) runs_total="$2"; shift 2 ;;
        --processes) processes="$2"; shift 2 ;;
        --asan) sanitizers=fuzzer,address; scratch=.build-asan; shift ;;
        -h|--help) sed -n 2,8p "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(FuzzLogs FuzzPreScan FuzzJSON FuzzExplain)
[[ "$processes" =~ ^[1-9][0-9]*$ ]] || { echo "--processes takes a positive number" >&2; exit 2; }
if [ -n "${runs_total:-}" ]; then limit=(-runs=$(( (runs_total + processes - 1) / processes ))); fi

echo "==> building ${targets[*]} (release, -sanitize=$sanitizers)" >&2
# SwiftPM kept the build plan of the product package (a path dependency) and missed a source file added
# there since the last build; planning again costs seconds, not a rebuild.
rm -f "$scratch/release.yaml" "$scratch"/*/release/description.json
for target in "${targets[@]}"; do
    swift build -c release --scratch-path "$scratch" -j 2 --product "$target" \
        -Xswiftc -sanitize="$sanitizers" -Xswiftc -parse-as-library >&2
done
bin="$scratch/release"

fixtures=../../fixtures
seed() {  # seed TARGET DIR: the fixtures each target reads, cut to the largest input it is given
    local target=$1 dir=$2 n=0
    case "$target" in
        FuzzLogs)
            # Control byte (see FuzzLogs.swift): detected format; blocks of 1 byte (at most 64 blocks), 128 bytes, the whole input.
            for f in "$fixtures"/logs/*.log "$fixtures"/logs/*.csv "$fixtures"/logs/*.json; do
                for control in 00 18 38 80; do
                    { printf "\\x$control"; head -c 8192 "$f"; } > "$dir/seed-$((n += 1))"
                done
            done ;;
        FuzzPreScan)
            # Mode byte 1-3 (see FuzzPreScan.swift) on each logged statement and each fixture SQL statement.
            { grep -ho 'statement: .*' "$fixtures"/logs/stderr-*.log | cut -d' ' -f2- | sort -u | head -400
              find "$fixtures/sql" -name '*.sql' -exec cat {} + | tr '\n' ' ' | sed 's/; */;\n/g' | head -400
            } | while IFS= read -r statement; do
                for mode in 01 02 03 07; do printf "\\x$mode%s" "$statement" > "$dir/seed-$((n += 1))"; done
            done ;;
        FuzzJSON)
            for f in "$fixtures"/plans/*.json; do cp "$f" "$dir/seed-$((n += 1))"; done
            for f in "$fixtures"/logs/*.json; do
                head -n 50 "$f" | while IFS= read -r line; do printf '%s' "$line" > "$dir/seed-$((n += 1))"; done
            done ;;
        FuzzExplain)
            for f in "$fixtures"/plans/*.txt "$fixtures"/plans/*.json "$fixtures"/logs/stderr-auto-explain-*.log; do
                head -c 16384 "$f" > "$dir/seed-$((n += 1))"
            done ;;
    esac
}

failed=0
printf '%-12s %12s %8s %8s %7s\n' target executions exec/s rss_mb crashes
for target in "${targets[@]}"; do
    corpus="$scratch/fuzz-corpus/$target" seeds="$scratch/fuzz-seeds/$target" crashes="crashes/$target"
    mkdir -p "$corpus" "$crashes"
    rm -rf "$seeds" && mkdir -p "$seeds" && seed "$target" "$seeds"
    status=0
    pids=()
    rm -f "$scratch"/fuzz-"$target"-*.log
    for k in $(seq 1 "$processes"); do
        log="$scratch/fuzz-$target-$k.log"
        "$bin/$target" "${limit[@]}" -max_len=16384 -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
            -artifact_prefix="$crashes/" "$corpus" "$seeds" > "$log" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
    final_stat() { cat "$scratch"/fuzz-"$target"-*.log | grep -o "stat::$1: *[0-9]*" | grep -o '[0-9]*$' || true; }
    runs=$(final_stat number_of_executed_units | awk '{ s += $1 } END { print s + 0 }')
    speed=$(final_stat average_exec_per_sec | awk '{ s += $1 } END { print s + 0 }')
    rss=$(final_stat peak_rss_mb | awk '$1 > m { m = $1 } END { print m + 0 }')
    found=$(find "$crashes" -type f | wc -l)
    printf '%-12s %12s %8s %8s %7s\n' "$target" "$runs" "$speed" "$rss" "$found"
    if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
        failed=1
        echo "    $target failed (exit $status); its logs: Benchmarks/fuzz/$scratch/fuzz-$target-*.log" >&2
        cat "$scratch"/fuzz-"$target"-*.log | grep -m 3 -E 'Fatal error|ERROR: libFuzzer|SUMMARY' | sed 's/^/    /' >&2 || true
    fi
done
exit "$failed"
