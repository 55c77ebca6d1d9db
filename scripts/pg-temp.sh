#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests, demos and benchmarks: a new data directory under /tmp, a free
# port on 127.0.0.1, pg_stat_statements, auto_explain and pg_qualstats preloaded, fast and unsafe settings
# (fsync off) because nothing here needs to survive. Source this file, then:
#   pg_temp_start [extra postgresql.conf lines...]   # sets PGTEMP_DSN, PGTEMP_PORT, PGTEMP_DIR
#   pg_temp_stop
#   pg_temp_start_standby [PRIMARY_PORT]   # a streaming standby of it: sets PGTEMP_STANDBY_DSN, _PORT, _DIR
#   pg_temp_stop_standby
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

# A new directory under /tmp that the server's owner may write: pg_temp_new_dir NAME-PREFIX.
pg_temp_new_dir() {
  local dir
  dir=$(mktemp -d "/tmp/$1.XXXXXX") || return 1
  chmod 755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  echo "$dir"
}

# Starts the cluster in DIR/data on the first free port from FIRST_PORT, logging to DIR/server.log, and
# waits until it accepts connections; sets PGTEMP_LAUNCHED_PORT. Another server started at the same time
# (suites run in parallel) can take the port between the check and the bind: then the next one is tried.
pg_temp_launch() {
  local port="$2" attempt
  for attempt in 1 2 3 4 5; do
    port=$(pg_temp_free_port "$port") || { echo "no free port for PostgreSQL" >&2; return 1; }
    # The last setting wins over any earlier `port =` line.
    echo "port = $port" | pg_temp_as_owner tee -a "$1/data/postgresql.conf" >/dev/null
    if pg_temp_as_owner "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 start >/dev/null; then
      PGTEMP_LAUNCHED_PORT=$port
      return 0
    fi
    grep -q "Address already in use" "$1/server.log" || break
    port=$((port + 1))
  done
  cat "$1/server.log" >&2
  return 1
}

# Stops the cluster in DIR/data at once and removes DIR.
pg_temp_discard() {
  if [ -n "$1" ] && [ -d "$1/data" ]; then
    pg_temp_as_owner "$PG_BIN/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$1"
  fi
}

pg_temp_start() {
  PGTEMP_DIR=$(pg_temp_new_dir pgadvise-pg) || return 1
  pg_temp_as_owner "$PG_BIN/initdb" -D "$PGTEMP_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PGTEMP_DIR/initdb.log" 2>&1 \
    || { cat "$PGTEMP_DIR/initdb.log" >&2; return 1; }
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$PGTEMP_DIR'"
    echo "shared_preload_libraries = 'pg_stat_statements,auto_explain,pg_qualstats'"
    # Every execution sampled, so what pg_qualstats records in tests is deterministic (its default
    # samples 1/max_connections of them).
    echo "pg_qualstats.sample_rate = 1"
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
  pg_temp_launch "$PGTEMP_DIR" 54330 || return 1
  PGTEMP_PORT=$PGTEMP_LAUNCHED_PORT
  PGTEMP_DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=postgres"
  export PGTEMP_PORT PGTEMP_DIR PGTEMP_DSN
}

pg_temp_stop() {
  pg_temp_discard "${PGTEMP_DIR:-}"
}

# A hot standby of the temp server on PRIMARY_PORT (default: the one pg_temp_start started), cloned with
# pg_basebackup -R into its own temp dir and started on another free port. PostgreSQL 15's defaults
# (wal_level = replica, max_wal_senders = 10) and initdb's pg_hba.conf (trust for replication from
# 127.0.0.1) are all it needs.
pg_temp_start_standby() {
  local primary_port="${1:-${PGTEMP_PORT:-}}"
  [ -n "$primary_port" ] || { echo "pg_temp_start_standby: no primary (run pg_temp_start or pass its port)" >&2; return 1; }
  PGTEMP_STANDBY_DIR=$(pg_temp_new_dir pgadvise-pg-standby) || return 1
  # --no-sync: like fsync = off on the primary, nothing here must survive a crash.
  pg_temp_as_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$PGTEMP_STANDBY_DIR/data" \
    -R -X stream -c fast --no-sync >"$PGTEMP_STANDBY_DIR/basebackup.log" 2>&1 \
    || { cat "$PGTEMP_STANDBY_DIR/basebackup.log" >&2; return 1; }
  # The copied postgresql.conf names the primary's port and socket directory; the last setting wins.
  {
    echo "unix_socket_directories = '$PGTEMP_STANDBY_DIR'"
    echo "hot_standby = on"
  } | pg_temp_as_owner tee -a "$PGTEMP_STANDBY_DIR/data/postgresql.conf" >/dev/null
  pg_temp_launch "$PGTEMP_STANDBY_DIR" $((primary_port + 1)) || return 1
  PGTEMP_STANDBY_PORT=$PGTEMP_LAUNCHED_PORT
  PGTEMP_STANDBY_DSN="host=127.0.0.1 port=$PGTEMP_STANDBY_PORT user=postgres dbname=postgres"
  export PGTEMP_STANDBY_PORT PGTEMP_STANDBY_DIR PGTEMP_STANDBY_DSN
}

pg_temp_stop_standby() {
  pg_temp_discard "${PGTEMP_STANDBY_DIR:-}"
}
