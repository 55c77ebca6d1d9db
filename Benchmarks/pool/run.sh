#!/usr/bin/env bash
# Pool sizing against pgbench: on the demo shop database (scripts/demo), after the demo workload has
# filled pg_stat_statements, `pgadvise pool --measure` sweeps 1, 2, 4, ... 64 clients on the
# workload's statements and recommends a size; then pgbench sweeps the same clients with the same
# statements, values and weights (taken from pgadvise's JSON). Prints both curves side by side and
# checks the issue's criteria: at the recommended size pgbench's throughput is within 5% of its best,
# and its p95 is no higher than at 4 × cores.
#   bash Benchmarks/pool/run.sh [STEP_SECONDS (default 5)] [MAX_CLIENTS (default 64)]
# Needs a built pgadvise (PGADVISE_BIN, default .build/release/pgadvise, else .build/debug/pgadvise).
set -euo pipefail
cd "$(dirname "$0")/../.."
step="${1:-5}"
max_clients="${2:-64}"
bin="${PGADVISE_BIN:-}"
if [ -z "$bin" ]; then
  if [ -x .build/release/pgadvise ]; then bin=.build/release/pgadvise; else bin=.build/debug/pgadvise; fi
fi
cores=$(nproc)

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
trap pg_temp_stop EXIT
pg_temp_start
out=$(mktemp -d /tmp/pgadvise-pool-bench.XXXXXX)
chmod 777 "$out"
psql_demo() { "$PG_BIN/psql" -X -q -o /dev/null -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres "$@"; }
echo "==> demo shop database on port $PGTEMP_PORT" >&2
psql_demo -d postgres -c "CREATE DATABASE demo_shop"
psql_demo -d demo_shop -f scripts/demo/schema.sql
psql_demo -d demo_shop -f scripts/demo/seed.sql
psql_demo -d demo_shop -c "ANALYZE"
psql_demo -d demo_shop -c "SELECT pg_stat_statements_reset()"
"$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PGTEMP_PORT" -U postgres -c 2 -j 2 -t 100 -f scripts/demo/workload.sql demo_shop >/dev/null

dsn="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=demo_shop"
echo "==> pgadvise pool --measure ($cores cores, ${step}s per level, up to $max_clients clients)" >&2
start=$(date +%s)
"$bin" pool "$dsn" --this-database --duration 5 --cores "$cores" --measure --max-clients "$max_clients" \
  --step-duration "$step" --warmup 2 --current "$max_clients" --format json > "$out/pool.json"
echo "    took $(( $(date +%s) - start )) s" >&2
"$bin" pool "$dsn" --this-database --duration 1 --cores "$cores" >/dev/null   # the text report works on it too

echo "==> pgbench sweep with the same statements" >&2
python3 Benchmarks/pool/pgbench_sweep.py "$out/pool.json" "$out" "$PG_BIN/pgbench" "$PGTEMP_PORT" "$step" "$max_clients" "$cores"
echo "==> files in $out" >&2
