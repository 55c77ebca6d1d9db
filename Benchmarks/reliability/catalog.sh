#!/usr/bin/env bash
# `pgadvise scan` and `pgadvise indexes` on a catalog of 20,000 tables and 100,000 indexes, partitioned
# tables included: wall time, peak memory (maximum resident set size) and the round trips the scan
# sent (they must not grow with the number of tables).
#   bash Benchmarks/reliability/catalog.sh [path to the pgadvise binary]
#   TABLES=2000 bash Benchmarks/reliability/catalog.sh    # a tenth of it, for a quick look
# Layout: PARTITIONED (default 100) partitioned tables of 10 partitions each, the rest plain tables;
# every table, parent or plain, has a primary key and four more indexes (a partitioned index makes
# one on each partition): 5 indexes per table.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=Benchmarks/release-binary.sh
source Benchmarks/release-binary.sh
bin="$(pgadvise_binary "${1:-}")"
TABLES="${TABLES:-20000}"
PARTITIONED="${PARTITIONED:-$((TABLES / 200))}"
PLAIN=$((TABLES - PARTITIONED * 11))

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
trap pg_temp_stop EXIT
# A transaction creating one table per loop step takes a lock per relation; batches commit every 200.
pg_temp_start "max_locks_per_transaction = 1024" >/dev/null
DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=postgres"
psql_bench() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$DSN" "$@"; }

started=$(date +%s)
psql_bench -c "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg;"
psql_bench <<SQL
DO \$\$ BEGIN
  FOR i IN 1..$PLAIN LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, a int, b int, c text, d timestamptz)', i);
    EXECUTE format('CREATE INDEX ON t%s (a)', i);
    EXECUTE format('CREATE INDEX ON t%s (b, c)', i);
    EXECUTE format('CREATE INDEX ON t%s (d)', i);
    EXECUTE format('CREATE INDEX ON t%s (lower(c))', i);
    IF i % 200 = 0 THEN COMMIT; END IF;
  END LOOP;
  FOR i IN 1..$PARTITIONED LOOP
    EXECUTE format('CREATE TABLE p%s (id int, a int, b int, c text, d date NOT NULL, PRIMARY KEY (id, d)) PARTITION BY RANGE (d)', i);
    EXECUTE format('CREATE INDEX ON p%s (a)', i);
    EXECUTE format('CREATE INDEX ON p%s (b, c)', i);
    EXECUTE format('CREATE INDEX ON p%s (c)', i);
    EXECUTE format('CREATE INDEX ON p%s (a, b)', i);
    FOR m IN 1..10 LOOP
      EXECUTE format('CREATE TABLE p%s_m%s PARTITION OF p%s FOR VALUES FROM (%L) TO (%L)', i, m, i,
                     make_date(2026, m, 1), make_date(2026, m + 1, 1));
    END LOOP;
    COMMIT;
  END LOOP;
END \$\$;
SQL
psql_bench -c "INSERT INTO t1 SELECT g, g % 100, g % 7, 'c' || g, now() FROM generate_series(1, 20000) g; ANALYZE t1;"
psql_bench -c "SELECT pg_stat_statements_reset()" >/dev/null
for i in $(seq 1 20); do psql_bench -c "SELECT id FROM t1 WHERE b = $i AND a = $((i * 3))" >/dev/null; done
counts=$(psql_bench -At -c "SELECT (SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace),
                                   (SELECT count(*) FROM pg_class WHERE relkind IN ('i', 'I') AND relnamespace = 'public'::regnamespace)")
echo "catalog: ${counts%|*} tables (partitions and parents included), ${counts#*|} indexes, built in $(( $(date +%s) - started )) s" >&2

measure() {  # measure LABEL COMMAND...: prints wall seconds and peak RSS
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o /tmp/pgadvise-catalog-time "$@" >/tmp/pgadvise-catalog-out 2>/tmp/pgadvise-catalog-err \
    || { echo "$label failed: $(head -c 400 /tmp/pgadvise-catalog-err)" >&2; }
  # On failure time(1) writes "Command exited with non-zero status N" first.
  read -r seconds kilobytes < <(tail -1 /tmp/pgadvise-catalog-time)
  printf '%-28s %8.2f s %10.1f MB\n' "$label" "$seconds" "$(awk -v k="$kilobytes" 'BEGIN { print k / 1024 }')"
}

echo "pgadvise on ${counts%|*} tables and ${counts#*|} indexes (wall time, peak resident memory):"
measure "scan --format json" "$bin" scan "$DSN" --format json
echo "  scan round trips: $(grep -o '"roundTrips" : [0-9]*' /tmp/pgadvise-catalog-out | grep -o '[0-9]*$'), tables seen: $(grep -o '"tableCount" : [0-9]*' /tmp/pgadvise-catalog-out | grep -o '[0-9]*$'), indexes seen: $(grep -o '"indexCount" : [0-9]*' /tmp/pgadvise-catalog-out | grep -o '[0-9]*$')"
measure "scan --include-catalog" "$bin" scan "$DSN" --format json --include-catalog
measure "indexes" "$bin" indexes "$DSN" --format json
echo "  indexes: $(grep -c '"ddl"' /tmp/pgadvise-catalog-out) recommendation(s)"
