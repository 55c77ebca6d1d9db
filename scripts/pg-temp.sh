#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests, demos and benchmarks: a new data directory under /tmp, a free
# port on 127.0.0.1, pg_stat_statements and auto_explain preloaded, fast and unsafe settings
# (fsync off) because nothing here needs to survive. Source this file, then:
#   pg_temp_start [extra postgresql.conf lines...]   # sets PGTEMP_DSN, PGTEMP_PORT, PGTEMP_DIR
#   pg_temp_stop
# initdb refuses to run as root, so as root the server runs as the postgres user.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

pg_temp_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_temp_free_port() {
  local port
  for port in $(seq "${1:-54330}" 54999); do
    # A client connection's ephemeral port in TIME-WAIT also makes the server's bind fail.
    if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ]; then continue; fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

pg_temp_start() {
  PGTEMP_PORT=$(pg_temp_free_port) || { echo "no free port for PostgreSQL" >&2; return 1; }
  PGTEMP_DIR=$(mktemp -d /tmp/pgadvise-pg.XXXXXX)
  chmod 755 "$PGTEMP_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PGTEMP_DIR"; fi
  pg_temp_as_owner "$PG_BIN/initdb" -D "$PGTEMP_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGTEMP_DIR/initdb.log" 2>&1 \
    || { cat "$PGTEMP_DIR/initdb.log" >&2; return 1; }
  {
    echo "port = $PGTEMP_PORT"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$PGTEMP_DIR'"
    echo "shared_preload_libraries = 'pg_stat_statements,auto_explain'"
    echo "pg_stat_statements.track = all"
    echo "max_connections = 200"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "shared_buffers = 256MB"
    echo "logging_collector = off"
    echo "log_destination = 'stderr'"
    for line in "$@"; do echo "$line"; done
  } | pg_temp_as_owner tee -a "$PGTEMP_DIR/data/postgresql.conf" >/dev/null
  pg_temp_as_owner "$PG_BIN/pg_ctl" -D "$PGTEMP_DIR/data" -l "$PGTEMP_DIR/server.log" -w -t 60 start >/dev/null \
    || { cat "$PGTEMP_DIR/server.log" >&2; return 1; }
  PGTEMP_DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=postgres"
  export PGTEMP_PORT PGTEMP_DIR PGTEMP_DSN
}

pg_temp_stop() {
  if [ -n "${PGTEMP_DIR:-}" ] && [ -d "$PGTEMP_DIR/data" ]; then
    pg_temp_as_owner "$PG_BIN/pg_ctl" -D "$PGTEMP_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGTEMP_DIR"
  fi
}
