#!/usr/bin/env bash
# TPC-H SF1 benchmark of `pgadvise indexes` against pg_qualstats_index_advisor() and the Dexter-rule
# baseline at storage budgets of 100 MB, 250 MB and 1 GB, in one run on one throwaway PostgreSQL 15
# (see BENCHMARKS.md, "pgadvise indexes on TPC-H SF1"). Usage: Benchmarks/tpch/run.sh
# TPCH_DATA: where tpchgen-cli's .tbl files are (generated there when missing; about 1.1 GB, not in
# the repository). TIMEOUT_MS, RUNS, BUDGETS: see bench.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${TPCH_DATA:-/tmp/tpch-sf1}"
if [ ! -f "$DATA/lineitem.tbl" ]; then
  command -v tpchgen-cli >/dev/null || { echo "missing tpchgen-cli: pip install tpchgen-cli" >&2; exit 2; }
  mkdir -p "$DATA"
  tpchgen-cli --scale-factor 1 --output-dir "$DATA" >&2
fi
# shellcheck source=Benchmarks/advisorbench.sh
source Benchmarks/advisorbench.sh
# Index builds only: maintenance_work_mem does not change how the queries run.
advisor_bench_start tpch "maintenance_work_mem = '512MB'" "max_wal_size = '4GB'"
echo "loading TPC-H SF1 from $DATA ..." >&2
started=$SECONDS
psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" -f Benchmarks/tpch/schema.sql
for table in region nation part supplier partsupp customer orders lineitem; do
  # tpchgen-cli ends every line with the separator, which COPY would read as one more column.
  sed 's/|$//' "$DATA/$table.tbl" | psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" -c "COPY $table FROM STDIN (FORMAT text, DELIMITER '|')"
done
psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" -f Benchmarks/tpch/keys.sql
psql -X -q -d "$DSN" -c "VACUUM ANALYZE"
echo "loaded in $((SECONDS - started)) s" >&2
python3 Benchmarks/tpch/bench.py "$DSN" "$PGADVISE_BIN"
