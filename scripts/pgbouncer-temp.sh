#!/usr/bin/env bash
# A throwaway PgBouncer in front of the temp PostgreSQL (scripts/pg-temp.sh): Debian's pgbouncer, a
# temp directory, a free port on 127.0.0.1, auth_type trust with an auth_file naming the users that
# may connect, postgres as admin user. Source this file after pg-temp.sh, then:
#   pgbouncer_temp_start [PG_PORT] [extra [pgbouncer] lines...]
#       sets PGBOUNCER_TEMP_PORT, PGBOUNCER_TEMP_DIR,
#       PGBOUNCER_TEMP_DSN (dbname=postgres through the pooler),
#       PGBOUNCER_TEMP_ADMIN_DSN (the admin console, dbname=pgbouncer)
#   pgbouncer_temp_stop
# PgBouncer refuses to run as root, so as root it runs as the postgres user (pg_temp_as_owner).

PGBOUNCER_BIN="${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}"

pgbouncer_temp_start() {
  local pg_port="${1:-${PGTEMP_PORT:-}}"
  [ -n "$pg_port" ] || { echo "pgbouncer_temp_start: no PostgreSQL port (run pg_temp_start or pass one)" >&2; return 1; }
  [ "$#" -gt 0 ] && shift
  [ -x "$PGBOUNCER_BIN" ] || { echo "pgbouncer is not installed ($PGBOUNCER_BIN); run scripts/setup.sh" >&2; return 1; }
  PGBOUNCER_TEMP_PORT=$(pg_temp_free_port $((pg_port + 100))) || { echo "no free port for PgBouncer" >&2; return 1; }
  PGBOUNCER_TEMP_DIR=$(pg_temp_new_dir pgadvise-pgbouncer) || return 1
  # trust still requires every user to be listed in auth_file.
  printf '"postgres" ""\n"pgadvise_monitor" ""\n"pgadvise_pool_monitor" ""\n' \
    | pg_temp_as_owner tee "$PGBOUNCER_TEMP_DIR/userlist.txt" >/dev/null
  {
    echo "[databases]"
    echo "* = host=127.0.0.1 port=$pg_port"
    echo "[pgbouncer]"
    echo "listen_addr = 127.0.0.1"
    echo "listen_port = $PGBOUNCER_TEMP_PORT"
    echo "unix_socket_dir = $PGBOUNCER_TEMP_DIR"
    echo "auth_type = trust"
    echo "auth_file = $PGBOUNCER_TEMP_DIR/userlist.txt"
    echo "admin_users = postgres"
    echo "stats_users = pgadvise_monitor, pgadvise_pool_monitor"
    echo "pool_mode = transaction"
    echo "default_pool_size = 5"
    echo "max_client_conn = 100"
    echo "logfile = $PGBOUNCER_TEMP_DIR/pgbouncer.log"
    echo "pidfile = $PGBOUNCER_TEMP_DIR/pgbouncer.pid"
    for line in "$@"; do echo "$line"; done
  } | pg_temp_as_owner tee "$PGBOUNCER_TEMP_DIR/pgbouncer.ini" >/dev/null
  pg_temp_as_owner "$PGBOUNCER_BIN" -d "$PGBOUNCER_TEMP_DIR/pgbouncer.ini" >"$PGBOUNCER_TEMP_DIR/start.log" 2>&1 \
    || { cat "$PGBOUNCER_TEMP_DIR/start.log" "$PGBOUNCER_TEMP_DIR/pgbouncer.log" >&2 2>/dev/null; return 1; }
  local i
  for i in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PGBOUNCER_TEMP_PORT") 2>/dev/null; then break; fi
    sleep 0.1
  done
  PGBOUNCER_TEMP_DSN="host=127.0.0.1 port=$PGBOUNCER_TEMP_PORT user=postgres dbname=postgres"
  PGBOUNCER_TEMP_ADMIN_DSN="host=127.0.0.1 port=$PGBOUNCER_TEMP_PORT user=postgres dbname=pgbouncer"
  export PGBOUNCER_TEMP_PORT PGBOUNCER_TEMP_DIR PGBOUNCER_TEMP_DSN PGBOUNCER_TEMP_ADMIN_DSN
}

pgbouncer_temp_stop() {
  local dir="${PGBOUNCER_TEMP_DIR:-}"
  if [ -n "$dir" ] && [ -f "$dir/pgbouncer.pid" ]; then
    local pid
    pid=$(cat "$dir/pgbouncer.pid")
    # SIGINT: PgBouncer's "safe shutdown" waits for queries; SIGTERM stops it at once.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$dir" ] && [ -d "$dir" ]; then rm -rf "$dir"; fi
}
