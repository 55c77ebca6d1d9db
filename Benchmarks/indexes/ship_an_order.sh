#!/usr/bin/env bash
# What the indexes pgadvise recommends on `orders` cost "ship an order" (UPDATE orders SET status = ...
# WHERE id = $1) in the application benchmark, timed two ways: in a new backend per run, as the
# benchmark harness times every statement (psql per run: the backend opens orders and each of its
# indexes for the first time), and in one warm session, as a pooled application runs it. Each run
# updates another row and is rolled back. Usage: Benchmarks/indexes/ship_an_order.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${1:-41}"
# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
trap pg_temp_stop EXIT
pg_temp_start "max_parallel_workers_per_gather = 0" "jit = off" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d "$PGTEMP_DSN" <<'SQL'
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
                     created_at timestamptz NOT NULL, total numeric(10,2) NOT NULL, note text);
INSERT INTO orders SELECT i, 1 + (i::bigint * 7919) % 2000,
    CASE WHEN i % 100 = 0 THEN 'pending' WHEN i % 5 = 0 THEN 'delivered' ELSE 'shipped' END,
    timestamptz '2024-01-01' + ((i::bigint * 104729) % 525600) * interval '1 minute', (i % 1000) / 10.0, repeat('x', 40)
  FROM generate_series(1, 1000000) i;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
VACUUM ANALYZE orders;
SQL

# The statement for run $1: a row spread over the table by a multiplicative step.
statement() { echo "UPDATE orders SET status = 'shipped' WHERE id = $(( 1 + ($1 * 7919 + $2) % 1000000 ))"; }

median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

new_backend_per_run() {
  for i in $(seq 1 "$RUNS"); do
    psql -X -At -d "$PGTEMP_DSN" -c "BEGIN" -c "EXPLAIN (ANALYZE, FORMAT JSON) $(statement "$i" "$1")" -c "ROLLBACK" \
      | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split("\n",1)[1].rsplit("\n",2)[0])[0]["Execution Time"])'
  done | median
}

one_session() {
  for i in $(seq 0 "$RUNS"); do
    echo "BEGIN;"; echo "EXPLAIN (ANALYZE, FORMAT JSON) $(statement "$i" "$1");"; echo "ROLLBACK;"
  done | psql -X -At -d "$PGTEMP_DSN" \
    | python3 -c 'import re,sys; [print(m) for m in re.findall(r"\"Execution Time\": ([0-9.]+)", sys.stdin.read())[1:]]' | median
}

echo "| Indexes on orders | new backend per run (ms) | one session (ms) |"
echo "|---|---:|---:|"
echo "| primary key, customer_id (before) | $(new_backend_per_run 11) | $(one_session 13) |"
psql -X -q -v ON_ERROR_STOP=1 -d "$PGTEMP_DSN" <<'SQL'
CREATE INDEX orders_created_at_partial_idx ON orders (created_at) WHERE status = 'pending';
CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at DESC);
CREATE INDEX orders_created_at_incl_idx ON orders (created_at) INCLUDE (customer_id, total);
ANALYZE orders;
SQL
echo "| + pgadvise's three (after) | $(new_backend_per_run 17) | $(one_session 19) |"
psql -X -At -d "$PGTEMP_DSN" -c "SELECT 'n_tup_upd ' || n_tup_upd || ', n_tup_hot_upd ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'orders'"
