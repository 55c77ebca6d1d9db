#!/usr/bin/env bash
# Installs everything, starts a throwaway PostgreSQL 15, and runs the whole test suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v swift >/dev/null 2>&1; then export PATH="/opt/swift/usr/bin:$PATH"; fi

# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh
# shellcheck source=scripts/pgbouncer-temp.sh
source scripts/pgbouncer-temp.sh
trap 'pgbouncer_temp_stop; pg_temp_stop' EXIT
pg_temp_start
export PGADVISE_TEST_DSN="$PGTEMP_DSN"
echo "==> PostgreSQL 15 on port $PGTEMP_PORT ($PGTEMP_DIR)" >&2
pgbouncer_temp_start "$PGTEMP_PORT"
export PGADVISE_TEST_PGBOUNCER_DSN="$PGBOUNCER_TEMP_DSN" PGADVISE_TEST_PGBOUNCER_ADMIN_DSN="$PGBOUNCER_TEMP_ADMIN_DSN"
echo "==> PgBouncer on port $PGBOUNCER_TEMP_PORT in front of it" >&2

swift build --build-tests >&2
swift test --skip-build "$@"
