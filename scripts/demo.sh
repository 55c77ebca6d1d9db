#!/usr/bin/env bash
# The README's first command: installs everything, starts a throwaway PostgreSQL 15, creates a demo
# shop database with realistic volumes and a workload that shows each problem pgadvise finds, then
# runs `pgadvise scan` on it. The server is stopped and removed at the end unless --keep is given.
#   bash scripts/demo.sh [--keep] [pgadvise scan options, e.g. --format json]
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
scan_args=()
for arg in "$@"; do
  if [ "$arg" = "--keep" ]; then keep=1; else scan_args+=("$arg"); fi
done

# PGADVISE_BIN names an already built binary (development); otherwise setup.sh installs and builds.
pgadvise_bin="${PGADVISE_BIN:-}"
if [ -z "$pgadvise_bin" ]; then
  bash scripts/setup.sh
  if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi
  pgadvise_bin="$(swift build --show-bin-path)/pgadvise"
fi

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
if [ "$keep" -eq 0 ]; then trap pg_temp_stop EXIT; fi
# Another server may take the free port between the check and the start: try a few times.
for attempt in 1 2 3; do
  if pg_temp_start 2>/dev/null; then break; fi
  pg_temp_stop
  if [ "$attempt" -eq 3 ]; then echo "could not start PostgreSQL 15 (see the messages above)" >&2; exit 1; fi
  sleep 1
done
echo "==> PostgreSQL 15 on port $PGTEMP_PORT ($PGTEMP_DIR)" >&2

psql_demo() { "$PG_BIN/psql" -X -q -o /dev/null -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres "$@"; }

echo "==> creating the demo shop database (about 1.1 million rows)" >&2
psql_demo -d postgres -c "CREATE DATABASE demo_shop"
psql_demo -d demo_shop -f scripts/demo/schema.sql
# A backend reports its row and scan counts as it exits, which can be just after its client has
# gone: wait for that before analyzing and before scanning, so the counters are complete.
wait_for_idle() {
  for _ in $(seq 1 100); do
    [ "$("$PG_BIN/psql" -X -At -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres -d postgres \
        -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'demo_shop'")" = "0" ] && return 0
    sleep 0.1
  done
}
psql_demo -d demo_shop -f scripts/demo/seed.sql
wait_for_idle
# Separate sessions: a session's row counts reach the statistics only when it goes idle or ends,
# so loading, analyzing and the later changes each get their own.
psql_demo -d demo_shop -c "ANALYZE customers, products, orders, order_items, events, inventory"
psql_demo -d demo_shop -f scripts/demo/changes.sql
# invalid-index: a CREATE UNIQUE INDEX CONCURRENTLY that fails on duplicates leaves an invalid index behind.
psql_demo -d demo_shop -c "CREATE UNIQUE INDEX CONCURRENTLY products_category_key ON products (category)" \
  >/dev/null 2>&1 || true

echo "==> running the application workload (pgbench, about 30 seconds)" >&2
psql_demo -d demo_shop -c "SELECT pg_stat_statements_reset()" >/dev/null
"$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres -c 2 -j 2 -t 100 \
  -f scripts/demo/workload.sql demo_shop >/dev/null

wait_for_idle
echo "==> pgadvise scan" >&2
status=0
demo_dsn="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=demo_shop"
"$pgadvise_bin" scan "$demo_dsn" ${scan_args[@]+"${scan_args[@]}"} || status=$?

# The demo database is throwaway, so the recommendations can be proven here: --measure builds each
# index in a transaction that is rolled back and times the statements it serves before and after.
if [ "${#scan_args[@]}" -eq 0 ]; then
  echo ""
  echo "==> pgadvise indexes --measure (each index built in a rolled-back transaction, statements timed before and after)" >&2
  "$pgadvise_bin" indexes "$demo_dsn" --measure || status=$?
fi

# The weekly report job, backfilled: a baseline snapshot, the workload, a snapshot in the week before
# last, the workload again, a snapshot in last week; then last week's report against the week before.
if [ "${#scan_args[@]}" -eq 0 ]; then
  echo ""
  echo "==> pgadvise snapshot + report (three backfilled snapshots around two workload runs)" >&2
  report_dir="$(mktemp -d /tmp/pgadvise-report.XXXXXX)"
  last_monday="$(date -u -d "$(date -u +%F) -$(( $(date -u +%u) - 1 + 7 )) days" +%F)"
  snapshot_at() { "$pgadvise_bin" snapshot "$demo_dsn" --store "$report_dir/history.sqlite" --taken-at "$1" >&2; }
  snapshot_at "$(date -u -d "$last_monday -8 days" +%F)T12:00:00Z"
  for at in "$(date -u -d "$last_monday -3 days" +%F)T12:00:00Z" "$(date -u -d "$last_monday +4 days" +%F)T12:00:00Z"; do
    "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres -c 2 -j 2 -t 30 \
      -f scripts/demo/workload.sql demo_shop >/dev/null
    snapshot_at "$at"
  done
  "$pgadvise_bin" report --store "$report_dir/history.sqlite" --top 5 || status=$?
  "$pgadvise_bin" report --store "$report_dir/history.sqlite" --format html --output "$report_dir/weekly-report.html" || status=$?
  echo "==> HTML report: $report_dir/weekly-report.html" >&2
fi

if [ "$keep" -eq 1 ]; then
  echo "==> the demo server keeps running: psql \"host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=demo_shop\"" >&2
  echo "    stop it with: source scripts/pg-temp.sh && PGTEMP_DIR=$PGTEMP_DIR pg_temp_stop" >&2
fi
exit "$status"
