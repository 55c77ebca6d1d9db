#!/usr/bin/env bash
# Times `pgadvise report` on a month of daily snapshots of 5,000 statements, and `pgadvise snapshot`
# of a real pg_stat_statements holding 2,000 statements. Usage (a release binary):
#   swift build -c release --product pgadvise && PGADVISE_BIN=$(swift build -c release --show-bin-path)/pgadvise bash Benchmarks/report/bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${PGADVISE_BIN:?set PGADVISE_BIN to a release build of pgadvise}"
work="$(mktemp -d /tmp/pgadvise-report-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Wall seconds of the fastest of three runs of a command (stdout discarded).
best_of_three() {
  local best="" start end t
  for _ in 1 2 3; do
    start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" -eq 1 ]; then best=$t; fi
  done
  printf '%.3f' "$best"
}

store="$work/history.sqlite"
"$bin" snapshot --logs fixtures/logs/stderr-default.log --store "$store" --server bench-schema >/dev/null
python3 Benchmarks/report/fill-store.py "$store" 35 5000
echo "store: $(du -h "$store" | cut -f1)"
for format in json html text; do
  echo "report --format $format (35 daily snapshots x 5,000 statements, two weeks read): $(best_of_three "$bin" report --store "$store" --week 2026-W47 --format "$format") s"
done
echo "regressions found: $("$bin" report --store "$store" --week 2026-W47 --format json | python3 -c 'import json,sys; print(sum(len(s["regressions"]) for s in json.load(sys.stdin)["servers"]))')"

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
pg_temp_start
trap 'pg_temp_stop; rm -rf "$work"' EXIT
psql_bench() { "$PG_BIN/psql" -X -q -o /dev/null -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres -d postgres "$@"; }
psql_bench -c "CREATE EXTENSION pg_stat_statements"
python3 - "$work/setup.sql" "$work/workload.sql" <<'PY'
import sys
with open(sys.argv[1], "w") as setup, open(sys.argv[2], "w") as work:
    for t in range(100):
        cols = ", ".join(f"c{c} int" for c in range(20))
        setup.write(f"CREATE TABLE t{t} (id int PRIMARY KEY, {cols});\n")
        for c in range(20):
            work.write(f"SELECT c{c} FROM t{t} WHERE id = {t};\n")
PY
psql_bench -f "$work/setup.sql"
psql_bench -c "SELECT pg_stat_statements_reset()"
psql_bench -f "$work/workload.sql"
statements=$("$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres -d postgres -c "SELECT count(*) FROM pg_stat_statements")
echo "snapshot of pg_stat_statements with $statements entries: $(best_of_three "$bin" snapshot "$PGTEMP_DSN" --store "$work/live.sqlite") s"
