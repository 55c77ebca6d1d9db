#!/usr/bin/env bash
# Benchmark of `pgadvise indexes` against pg_qualstats_index_advisor() and a Dexter-rule baseline on an
# application-like workload, in one run on one throwaway PostgreSQL 15. Usage: Benchmarks/indexes/run.sh [SCALE]
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE="${1:-1}"
DIV="${DIV:-1}"
export PATH="/opt/swift/usr/bin:$PATH"
for ext in hypopg pg_qualstats; do
  if [ ! -f "/usr/share/postgresql/15/extension/$ext.control" ]; then
    echo "missing $ext: apt-get install postgresql-15-hypopg postgresql-15-pg-qualstats" >&2; exit 2
  fi
done
if [ -z "${PGADVISE_BIN:-}" ]; then
  swift build -c release --scratch-path .build-bench-indexes --product pgadvise >&2
  PGADVISE_BIN="$PWD/.build-bench-indexes/release/pgadvise"
fi
# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
trap pg_temp_stop EXIT
pg_temp_start "shared_preload_libraries = 'pg_stat_statements,pg_qualstats'" "pg_qualstats.sample_rate = 1" \
  "work_mem = '16MB'" "max_parallel_workers_per_gather = 0" "jit = off"
psql -X -q -v ON_ERROR_STOP=1 -d "$PGTEMP_DSN" -c "CREATE DATABASE bench"
DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=bench"
psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" -c "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_qualstats; CREATE EXTENSION hypopg;"
echo "loading (scale $SCALE) ..." >&2
time psql -X -q -v ON_ERROR_STOP=1 -v scale="$SCALE" -v div="$DIV" -d "$DSN" -f Benchmarks/indexes/schema.sql
psql -X -q -d "$DSN" -c "VACUUM ANALYZE"
LOG_FILE="$PGTEMP_DIR/server.log" python3 Benchmarks/indexes/workload.py "$DSN" "$PGADVISE_BIN"
