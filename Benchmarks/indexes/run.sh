#!/usr/bin/env bash
# Benchmark of `pgadvise indexes` against pg_qualstats_index_advisor() and a Dexter-rule baseline on an
# application-like workload, in one run on one throwaway PostgreSQL 15. Usage: Benchmarks/indexes/run.sh [SCALE]
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE="${1:-1}"
DIV="${DIV:-1}"
# shellcheck source=Benchmarks/advisorbench.sh
source Benchmarks/advisorbench.sh
advisor_bench_start bench
echo "loading (scale $SCALE) ..." >&2
time psql -X -q -v ON_ERROR_STOP=1 -v scale="$SCALE" -v div="$DIV" -d "$DSN" -f Benchmarks/indexes/schema.sql
psql -X -q -d "$DSN" -c "VACUUM ANALYZE"
python3 Benchmarks/indexes/workload.py "$DSN" "$PGADVISE_BIN"
