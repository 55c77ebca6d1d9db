#!/usr/bin/env bash
# Interrupts and breaks pgadvise at random points and checks that it leaves nothing behind.
#
#   scripts/interrupt-test.sh            # INTERRUPT_COUNT (default 50) SIGINTs and as many SIGTERMs,
#                                        # FAILURE_COUNT (default 10) server restarts and as many
#                                        # pg_terminate_backend calls
#   INTERRUPT_COUNT=5 FAILURE_COUNT=2 scripts/interrupt-test.sh    # what CI runs (from the Swift tests)
#   INTERRUPT_COMMANDS="pool explain" scripts/interrupt-test.sh    # only these commands
#
# Commands: `indexes --measure` (index build and timed runs), `indexes` (HypoPG), `scan`, `snapshot`,
# `pool --measure --script` (a load run whose statements write, each in a rolled-back transaction) and
# `explain --sql ... --allow-writes` (EXPLAIN ANALYZE of an UPDATE, rolled back), each started against a seeded database on a throwaway server of its own (scripts/pg-temp.sh), then
# hit after a random delay between 0 and 110% of its own uninterrupted run time.
# After every signal:
#   - the exit code is 130 (SIGINT) or 143 (SIGTERM) with one line on stderr saying what was rolled
#     back, or 0 when the command had already finished;
#   - no session with application_name pgadvise is left (HypoPG entries and prepared statements
#     live in the session, so they went with it);
#   - no index was added or lost (pg_indexes before and after), the rows of public.orders are those
#     of before (count and sums), no transaction is idle and open, no prepared transaction exists;
#   - the history store passes PRAGMA integrity_check and holds a new snapshot only when the
#     command exited 0, and every snapshot has its statements.
# After every restart (pg_ctl restart -m fast) or pg_terminate_backend: the same checks, with exit 3
# and one line on stderr (or 0 when the command had already finished).
# Exits 0 when every check passed; prints a tally of where the signals landed.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/pg-temp.sh
source scripts/pg-temp.sh

INTERRUPT_COUNT="${INTERRUPT_COUNT:-50}"
FAILURE_COUNT="${FAILURE_COUNT:-10}"
BIN="${PGADVISE_BIN:-.build/debug/pgadvise}"
PSQL="$PG_BIN/psql"
[ -x "$BIN" ] || { echo "interrupt-test: no pgadvise binary at $BIN (swift build first, or set PGADVISE_BIN)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "interrupt-test: sqlite3 is missing (scripts/setup.sh installs it)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/pgadvise-interrupt.XXXXXX)
cleanup() { pg_temp_stop; rm -rf "$WORK"; }
trap cleanup EXIT
# Another server started at the same moment can take the free port first: try again on another.
started=0
for _ in 1 2 3; do
  if pg_temp_start >/dev/null 2>"$WORK/pg-start.log"; then started=1; break; fi
  pg_temp_stop; sleep 1
done
[ "$started" = 1 ] || { cat "$WORK/pg-start.log" >&2; exit 2; }
DSN="host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=reliability"
STORE="$WORK/history.sqlite"
FAILURES=0

sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$PGTEMP_PORT user=postgres dbname=${2:-reliability}" -c "$1"; }

# A table large enough that building its index takes a visible share of `indexes --measure`, and a
# workload in pg_stat_statements that asks for that index.
sql "CREATE DATABASE reliability" postgres
sql "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg;
     CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, total numeric NOT NULL);
     INSERT INTO public.orders (customer_id, status, total)
       SELECT (g::bigint * 7919) % 50000, (ARRAY['new','paid','shipped'])[1 + g % 3], g % 1000 FROM generate_series(1, 600000) g;
     ANALYZE public.orders;" || exit 2
# The workload starts after the load, as on a server whose initial load is long past (the load's
# INSERT would otherwise weigh every index down with its write cost).
sql "SELECT pg_stat_statements_reset(), pg_stat_reset()" >/dev/null
sleep 0.5
for i in $(seq 1 20); do
  sql "SELECT count(*) FROM public.orders WHERE customer_id = $i; SELECT sum(total) FROM public.orders WHERE status = 'paid' AND customer_id = $((i + 100));" >/dev/null || exit 2
done

# The load run's statements: an UPDATE of a few hundred rows and an INSERT, both rolled back.
printf '%s\n' "UPDATE public.orders SET total = total + 1 WHERE customer_id = 4242" \
  "INSERT INTO public.orders (customer_id, status, total) VALUES (1, 'new', 1)" >"$WORK/pool-script.sql"

# INTERRUPT_COMMANDS="pool explain" limits a run to some of them.
read -ra COMMANDS <<<"${INTERRUPT_COMMANDS:-measure hypopg scan snapshot pool explain}"
run_command() {  # run_command NAME: starts it in the background, sets PID
  case "$1" in
    measure) "$BIN" indexes "$DSN" --measure --measure-runs 3 >"$WORK/out" 2>"$WORK/err" & ;;
    hypopg) "$BIN" indexes "$DSN" >"$WORK/out" 2>"$WORK/err" & ;;
    scan) "$BIN" scan "$DSN" --format json >"$WORK/out" 2>"$WORK/err" & ;;
    snapshot) "$BIN" snapshot "$DSN" --store "$STORE" >"$WORK/out" 2>"$WORK/err" & ;;
    pool) "$BIN" pool "$DSN" --measure --script "$WORK/pool-script.sql" --cores 1 --max-clients 2 --duration 0.5 \
            --step-duration 1 --warmup 0.2 --format json >"$WORK/out" 2>"$WORK/err" & ;;
    explain) "$BIN" explain "$DSN" --sql "UPDATE public.orders SET total = total + 1 WHERE status = 'paid'" --allow-writes \
               --format json >"$WORK/out" 2>"$WORK/err" & ;;
  esac
  PID=$!
  wait_for_handlers "$PID"
}

# Waits until the process catches SIGINT and SIGTERM (bits 2 and 15 of SigCgt in /proc/PID/status:
# pgadvise's handlers are installed). A signal before that point ends the process
# the default way, before it has connected or written anything, and says nothing: not a case to test.
wait_for_handlers() {
  local mask
  for _ in $(seq 1 500); do
    mask=$(awk '/^SigCgt:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 0
    [ -z "$mask" ] && return 0
    if (( (16#$mask & 0x4002) == 0x4002 )); then return 0; fi
    sleep 0.002
  done
}

# What --script and --allow-writes runs would change if their transactions were not rolled back.
orders_now() { sql "SELECT count(*) || ' rows, total ' || sum(total) || ', customers ' || sum(customer_id) FROM public.orders"; }
indexes_now() { sql "SELECT string_agg(schemaname || '.' || indexname, ',' ORDER BY 1) FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"; }
snapshots_now() { [ -f "$STORE" ] && sqlite3 "$STORE" "SELECT count(*) FROM snapshot" 2>/dev/null || echo 0; }

# Milliseconds each command takes uninterrupted: the range the random delays are drawn from.
declare -A DURATION_MS
for name in "${COMMANDS[@]}"; do
  start=$(date +%s%N); run_command "$name"; wait "$PID"; rc=$?
  DURATION_MS[$name]=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ "$rc" -ne 0 ]; then echo "interrupt-test: $name failed before any signal (exit $rc): $(head -c 400 "$WORK/err")" >&2; exit 1; fi
  echo "calibration: $name takes ${DURATION_MS[$name]} ms" >&2
done
BASELINE_INDEXES=$(indexes_now)
BASELINE_ORDERS=$(orders_now)

fail() { echo "FAIL [$1]: $2" >&2; FAILURES=$((FAILURES + 1)); }

# The server-side checks every run ends with. $1 describes the run, $2 the exit code, $3 the number
# of snapshots before the run.
check_leftovers() {
  local what="$1" rc="$2" before="$3" left=1
  for _ in $(seq 1 50); do
    left=$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgadvise'" 2>/dev/null || echo 1)
    [ "$left" = "0" ] && break
    sleep 0.1
  done
  [ "$left" = "0" ] || fail "$what" "a pgadvise session is still on the server: $(sql "SELECT state || ': ' || left(query, 80) FROM pg_stat_activity WHERE application_name = 'pgadvise'")"
  local idle
  idle=$(sql "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
  [ "$idle" = "0" ] || fail "$what" "$idle transaction(s) left open"
  [ "$(sql "SELECT count(*) FROM pg_prepared_xacts")" = "0" ] || fail "$what" "a prepared transaction was left"
  [ "$(indexes_now)" = "$BASELINE_INDEXES" ] || fail "$what" "indexes changed: $(indexes_now)"
  [ "$(orders_now)" = "$BASELINE_ORDERS" ] || fail "$what" "public.orders changed: $BASELINE_ORDERS -> $(orders_now)"
  if [ -f "$STORE" ]; then
    local integrity orphans after
    integrity=$(sqlite3 "$STORE" "PRAGMA integrity_check" 2>&1)
    [ "$integrity" = "ok" ] || fail "$what" "history store integrity_check: $integrity"
    orphans=$(sqlite3 "$STORE" "SELECT count(*) FROM snapshot s WHERE NOT EXISTS (SELECT 1 FROM snapshot_statement ss WHERE ss.snapshot_id = s.id)")
    [ "$orphans" = "0" ] || fail "$what" "$orphans snapshot(s) without statements (a partial snapshot)"
    after=$(snapshots_now)
    if [ "$rc" -ne 0 ] && [ "$after" != "$before" ]; then fail "$what" "exit $rc but a snapshot was stored ($before -> $after)"; fi
  fi
}

# stderr must be exactly one line matching $2, besides the warning --allow-writes prints before it starts.
check_one_line() {
  local what="$1" pattern="$2" lines
  grep -v '^pgadvise: warning: --allow-writes' "$WORK/err" >"$WORK/err.lines"
  lines=$(wc -l <"$WORK/err.lines")
  if [ "$lines" -ne 1 ] || ! grep -Eq "$pattern" "$WORK/err.lines"; then
    fail "$what" "expected one line matching /$pattern/ on stderr, got $lines: $(head -c 600 "$WORK/err")"
  fi
}

random_delay() {  # seconds, uniform in [0, 1.1 x the command's duration]
  awk -v max="${DURATION_MS[$1]}" -v seed="$RANDOM$RANDOM" 'BEGIN { srand(seed); printf "%.3f", rand() * max * 1.1 / 1000 }'
}

declare -A TALLY
interrupt_once() {  # interrupt_once SIGNAL EXPECTED_CODE RUN_NUMBER
  local signal="$1" expected="$2" name delay before rc what
  name=${COMMANDS[$((RANDOM % ${#COMMANDS[@]}))]}
  delay=$(random_delay "$name")
  before=$(snapshots_now)
  run_command "$name"; sleep "$delay"; kill -s "$signal" "$PID" 2>/dev/null; wait "$PID"; rc=$?
  what="$signal #$3 $name after ${delay}s"
  if [ "$rc" -eq 0 ]; then
    TALLY["$name: finished first"]=$(( ${TALLY["$name: finished first"]:-0} + 1 ))
  elif [ "$rc" -eq "$expected" ]; then
    check_one_line "$what" "^pgadvise: interrupted \\(SIG$signal\\): (rolled back .+; nothing was left on the server|cancelled the running statement; nothing was written|nothing was written)$"
    local landed
    landed=$(sed -E 's/^pgadvise: interrupted \([A-Z]+\): //; s/ of pgadvise_[a-z0-9_]+ / of <index> /; s/index pgadvise_[a-z0-9_]+ /index <index> /; s/before building pgadvise_[a-z0-9_]+/before building <index>/; s/stored in [^)]*/stored in <store>/' "$WORK/err.lines")
    TALLY["$name: $landed"]=$(( ${TALLY["$name: $landed"]:-0} + 1 ))
  else
    fail "$what" "exit $rc, expected $expected or 0: $(head -c 600 "$WORK/err")"
  fi
  check_leftovers "$what" "$rc" "$before"
}

for i in $(seq 1 "$INTERRUPT_COUNT"); do
  interrupt_once INT 130 "$i"
  interrupt_once TERM 143 "$i"
done

# The server goes away under a running command: a fast restart, or pg_terminate_backend of
# pgadvise's own session. Exit 3 with one line, and nothing partial left.
break_once() {  # break_once restart|terminate RUN_NUMBER
  local how="$1" name delay before rc what
  name=${COMMANDS[$((RANDOM % ${#COMMANDS[@]}))]}
  delay=$(random_delay "$name")
  before=$(snapshots_now)
  run_command "$name"; sleep "$delay"
  if [ "$how" = restart ]; then
    pg_temp_as_owner "$PG_BIN/pg_ctl" -D "$PGTEMP_DIR/data" -l "$PGTEMP_DIR/server.log" -m fast -w restart >/dev/null
  else
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgadvise'" >/dev/null
  fi
  wait "$PID"; rc=$?
  what="$how #$2 $name after ${delay}s"
  if [ "$rc" -eq 3 ]; then
    check_one_line "$what" "^pgadvise: (lost the connection to the server|cannot connect)"
    TALLY["$how: $name: exit 3"]=$(( ${TALLY["$how: $name: exit 3"]:-0} + 1 ))
  elif [ "$rc" -eq 0 ]; then
    TALLY["$how: $name: finished first"]=$(( ${TALLY["$how: $name: finished first"]:-0} + 1 ))
  else
    fail "$what" "exit $rc, expected 3 or 0: $(head -c 600 "$WORK/err")"
  fi
  check_leftovers "$what" "$rc" "$before"
}

for i in $(seq 1 "$FAILURE_COUNT"); do
  break_once restart "$i"
  break_once terminate "$i"
done

echo "where the signals and failures landed:" >&2
for key in "${!TALLY[@]}"; do printf '  %4d  %s\n' "${TALLY[$key]}" "$key"; done | sort -k2 >&2
if [ "$FAILURES" -gt 0 ]; then
  echo "interrupt-test: $FAILURES check(s) failed" >&2
  exit 1
fi
echo "interrupt-test: all checks passed ($INTERRUPT_COUNT SIGINT, $INTERRUPT_COUNT SIGTERM, $FAILURE_COUNT restarts, $FAILURE_COUNT terminations)" >&2
