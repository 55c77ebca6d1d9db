#!/usr/bin/env bash
# What pgadvise costs a busy server: pgbench TPC-B and its read-only mix (-S) at a fixed concurrency,
# RUNS times each way, alternating: without pgadvise, and with `pgadvise scan`, `pgadvise snapshot` or
# the observation part of `pgadvise pool` (`--duration 1`: pg_stat_activity sampled every 100 ms, and
# its collectors) started once a second (far more often than any real schedule). pgadvise
# runs on the same machine, so its own CPU counts against the server too.
#   bash Benchmarks/reliability/overhead.sh [path to the pgadvise binary]
#   DURATION=60 RUNS=3 CLIENTS=8 SCALE=20 bash Benchmarks/reliability/overhead.sh    # the defaults
# Prints, per workload and mode, the median TPS and median p99 latency of the runs, and each against
# the runs without pgadvise. Target (issue 15): median TPS within 5%, p99 latency within 10%.
# CLIENTS should be the knee of the machine's TPS curve (where more clients stop adding TPS):
# `KNEE=1 bash Benchmarks/reliability/overhead.sh` measures 10 s runs at 1, 2, 4, 8, 16 and 32
# clients first and prints them.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=Benchmarks/release-binary.sh
source Benchmarks/release-binary.sh
bin="$(pgadvise_binary "${1:-}")"
DURATION="${DURATION:-60}"
RUNS="${RUNS:-3}"
CLIENTS="${CLIENTS:-8}"
SCALE="${SCALE:-20}"

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
WORK=$(mktemp -d /tmp/pgadvise-overhead.XXXXXX)
chmod 777 "$WORK"
cleanup() { [ -n "${LOOP_PID:-}" ] && kill "$LOOP_PID" 2>/dev/null; pg_temp_stop; rm -rf "$WORK"; }
trap cleanup EXIT
pg_temp_start >/dev/null
DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=postgres"
"$PG_BIN/pgbench" -q -i -s "$SCALE" "$DSN" >/dev/null 2>&1
"$PG_BIN/psql" -X -q "$DSN" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

# One pgadvise command started every second, each in the background, until killed.
start_loop() {
  case "$1" in
    none) LOOP_PID=""; return ;;
    scan) command=(scan "$DSN" --format json) ;;
    snapshot) command=(snapshot "$DSN" --store "$WORK/history.sqlite") ;;
    pool) command=(pool "$DSN" --duration 1 --cores "$(nproc)" --format json) ;;
  esac
  ( while true; do "$bin" "${command[@]}" >/dev/null 2>>"$WORK/pgadvise-errors" & sleep 1; done ) &
  LOOP_PID=$!
}

stop_loop() {
  if [ -n "${LOOP_PID:-}" ]; then kill "$LOOP_PID" 2>/dev/null || true; wait "$LOOP_PID" 2>/dev/null || true; fi
  LOOP_PID=""
  sleep 1
}

# One pgbench run: prints "TPS P99_MS". Latencies come from pgbench's per-transaction log.
bench() {  # bench WORKLOAD(tpcb|select) CLIENTS SECONDS
  local flags=() dir
  [ "$1" = select ] && flags=(-S)
  dir=$(mktemp -d "$WORK/run.XXXXXX")
  local threads=$(( $2 < $(nproc) ? $2 : $(nproc) ))
  (cd "$dir" && "$PG_BIN/pgbench" "${flags[@]}" -n -c "$2" -j "$threads" -T "$3" -l "$DSN" >"$dir/out" 2>&1)
  local tps p99
  tps=$(awk '/^tps = / { printf "%.1f", $3 }' "$dir/out")
  # Field 3 of pgbench's log is the transaction's latency in microseconds.
  p99=$(cat "$dir"/pgbench_log.* | awk '{ print $3 }' | sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 }')
  rm -rf "$dir"
  echo "$tps $p99"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if [ "${KNEE:-}" = 1 ]; then
  for workload in tpcb select; do
    for c in 1 2 4 8 16 32; do echo "knee: $workload $c clients: $(bench "$workload" "$c" 10)"; done
  done
fi

declare -A TPS P99
for workload in tpcb select; do
  for run in $(seq 1 "$RUNS"); do
    for mode in none scan snapshot pool; do
      start_loop "$mode"
      read -r tps p99 < <(bench "$workload" "$CLIENTS" "$DURATION")
      stop_loop
      echo "run $run $workload with ${mode/none/no pgadvise}: $tps TPS, p99 $p99 ms" >&2
      TPS[$workload,$mode]+="$tps "
      P99[$workload,$mode]+="$p99 "
    done
  done
done

echo "pgbench -c $CLIENTS -T $DURATION, scale $SCALE, $RUNS runs each, medians:"
printf '%-8s %-22s %10s %12s %10s %10s\n' workload mode TPS "p99 ms" "TPS vs" "p99 vs"
for workload in tpcb select; do
  base_tps=$(tr ' ' '\n' <<<"${TPS[$workload,none]}" | grep . | median)
  base_p99=$(tr ' ' '\n' <<<"${P99[$workload,none]}" | grep . | median)
  for mode in none scan snapshot pool; do
    tps=$(tr ' ' '\n' <<<"${TPS[$workload,$mode]}" | grep . | median)
    p99=$(tr ' ' '\n' <<<"${P99[$workload,$mode]}" | grep . | median)
    printf '%-8s %-22s %10.1f %12.2f %+9.1f%% %+9.1f%%\n' "$workload" "${mode/none/without pgadvise}" "$tps" "$p99" \
      "$(awk -v a="$tps" -v b="$base_tps" 'BEGIN { print (a / b - 1) * 100 }')" \
      "$(awk -v a="$p99" -v b="$base_p99" 'BEGIN { print (a / b - 1) * 100 }')"
  done
done
if [ -s "$WORK/pgadvise-errors" ]; then
  echo "pgadvise printed errors during the runs (first lines):"; head -5 "$WORK/pgadvise-errors"
fi
