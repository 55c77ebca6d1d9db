#!/usr/bin/env bash
# Times `pgadvise scan` on a generated database of 1,000 tables, 3,000 indexes and 5,000 distinct
# statements in pg_stat_statements, and shows that its round trips do not grow with the number of
# tables (the same scan on 100 tables sends as many statements).
#   bash Benchmarks/scan/run.sh [path to the pgadvise binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=Benchmarks/release-binary.sh
source Benchmarks/release-binary.sh
bin="$(pgadvise_binary "${1:-}")"

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
trap pg_temp_stop EXIT
pg_temp_start "pg_stat_statements.max = 20000"
psql_bench() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres "$@"; }

generate() {  # generate <database> <tables>
  local db=$1 tables=$2
  psql_bench -d postgres -c "CREATE DATABASE $db"
  psql_bench -d "$db" <<SQL
CREATE EXTENSION pg_stat_statements;
DO \$\$ BEGIN
  FOR i IN 1..$tables LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, a int, b int, c text)', i);
    EXECUTE format('CREATE INDEX t%s_a ON t%s (a)', i, i);
    EXECUTE format('CREATE INDEX t%s_b_c ON t%s (b, c)', i, i);
    EXECUTE format('INSERT INTO t%s SELECT g, g %% 10, g %% 7, ''v'' || g FROM generate_series(1, 50) g', i);
  END LOOP;
END \$\$;
ANALYZE;
SQL
  # Five statement shapes per table, each a distinct pg_stat_statements entry; the setup's own
  # statements are reset away so that the top statements are the application's.
  psql_bench -d "$db" -c "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)"
  for i in $(seq 1 "$tables"); do
    echo "SELECT id, c FROM t$i WHERE a = 3;"
    echo "SELECT count(*) FROM t$i WHERE b = 2 AND c = 'v9';"
    echo "SELECT * FROM t$i WHERE id = 7;"
    echo "SELECT a, count(*) FROM t$i GROUP BY a ORDER BY a;"
    echo "SELECT c FROM t$i ORDER BY b DESC LIMIT 5;"
  done | psql_bench -d "$db" >/dev/null
}

echo "==> generating 1,000 tables and 5,000 statements (and a 100-table copy)" >&2
generate bench_scan_1000 1000
generate bench_scan_100 100

measure() {  # measure <database>
  local dsn="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=$1" start end json
  json=$(mktemp)
  start=$(date +%s.%N)
  "$bin" scan "$dsn" --format json >"$json"
  end=$(date +%s.%N)
  python3 - "$json" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"tables={r['tableCount']} indexes={r['indexCount']} statements={r['statementStats']['statementCount']} "
      f"wall={float(sys.argv[3]) - float(sys.argv[2]):.2f}s scan={r['durationMs'] / 1000:.2f}s "
      f"round_trips={r['roundTrips']} queries={len(r['queries'])} "
      f"planned={sum(1 for q in r['queries'] if q.get('plan'))} findings={len(r['findings'])}")
from collections import Counter
print("  findings by rule:", dict(Counter(f['rule'] for f in r['findings'])), file=sys.stderr)
PY
  rm -f "$json"
}
for run in 1 2 3; do echo "run $run: $(measure bench_scan_1000)"; done
echo "100-table copy: $(measure bench_scan_100)"
