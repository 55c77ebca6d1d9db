# Sourced by the index-advisor benchmarks (Benchmarks/indexes/run.sh, Benchmarks/tpch/run.sh), from the
# repository root: checks the extensions the peers need, builds pgadvise unless PGADVISE_BIN names one,
# and starts a throwaway PostgreSQL 15 with pg_stat_statements and pg_qualstats, parallel query and JIT
# off (stable figures on a small machine), and an empty database with the three extensions.
#   advisor_bench_start DBNAME [extra postgresql.conf lines...]   # sets DSN, PGADVISE_BIN, LOG_FILE
advisor_bench_start() {
  local dbname="$1"; shift
  export PATH="/opt/swift/usr/bin:$PATH"
  local ext
  for ext in hypopg pg_qualstats; do
    if [ ! -f "/usr/share/postgresql/15/extension/$ext.control" ]; then
      echo "missing $ext: apt-get install postgresql-15-hypopg postgresql-15-pg-qualstats" >&2; return 2
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
    "work_mem = '16MB'" "max_parallel_workers_per_gather = 0" "jit = off" "$@"
  psql -X -q -v ON_ERROR_STOP=1 -d "$PGTEMP_DSN" -c "CREATE DATABASE $dbname"
  DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=$dbname"
  psql -X -q -v ON_ERROR_STOP=1 -d "$DSN" -c "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_qualstats; CREATE EXTENSION hypopg;"
  # The fill phases log every statement with its duration and literal values; pgadvise reads it with --logs.
  LOG_FILE="$PGTEMP_DIR/server.log"
  export DSN PGADVISE_BIN LOG_FILE
}
