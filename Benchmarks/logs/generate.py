#!/usr/bin/env python3
"""Writes a large, realistic PostgreSQL stderr log (log_min_duration_statement = 0) to stdout:
pgbench-style transactions from many interleaved sessions with literal values, multi-line report
queries, IN lists of varying length, N+1 bursts, errors with their STATEMENT lines, and connection
lines. Deterministic for a given size, so runs compare."""
import random, sys

target = int(sys.argv[1]) if len(sys.argv) > 1 else 300 * 1024 * 1024
prefix_fmt = "%s [%d] user=app,db=bench,app=pgbench,client=10.0.0.%d "
rng = random.Random(42)
out = sys.stdout
written = 0
t = 1_700_000_000.0
sessions = list(range(20000, 20064))
buf = []

def stamp():
    s = int(t)
    ms = int((t - s) * 1000)
    import time as _t
    return _t.strftime("%Y-%m-%d %H:%M:%S", _t.gmtime(s)) + ".%03d UTC" % ms

report = ("SELECT b.bid, sum(a.abalance) AS total,\n\t       count(*) AS accounts\n\t  FROM pgbench_accounts a\n"
          "\t  JOIN pgbench_branches b ON b.bid = a.bid\n\t WHERE a.abalance > %d\n\t GROUP BY b.bid\n\t ORDER BY total DESC;")
i = 0
while written < target:
    i += 1
    t += rng.random() * 0.002
    pid = sessions[rng.randrange(len(sessions))]
    head = prefix_fmt % (stamp(), pid, pid % 250) if i % 64 else None
    pre = prefix_fmt % (stamp(), pid, pid % 250)
    aid, tid, bid, delta = rng.randrange(1, 1_000_000), rng.randrange(1, 100), rng.randrange(1, 10), rng.randrange(-5000, 5000)
    d = lambda: "%.3f" % (rng.random() ** 3 * 20)
    k = i % 100
    if k < 60:
        stmts = [
            "BEGIN;",
            "UPDATE pgbench_accounts SET abalance = abalance + %d WHERE aid = %d;" % (delta, aid),
            "SELECT abalance FROM pgbench_accounts WHERE aid = %d;" % aid,
            "UPDATE pgbench_tellers SET tbalance = tbalance + %d WHERE tid = %d;" % (delta, tid),
            "UPDATE pgbench_branches SET bbalance = bbalance + %d WHERE bid = %d;" % (delta, bid),
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (%d, %d, %d, %d, CURRENT_TIMESTAMP);" % (tid, bid, aid, delta),
            "END;",
        ]
        lines = ["%sLOG:  duration: %s ms  statement: %s\n" % (pre, d(), s) for s in stmts]
    elif k < 80:
        ids = ", ".join(str(rng.randrange(1, 1_000_000)) for _ in range(rng.randrange(1, 30)))
        lines = ["%sLOG:  duration: %s ms  statement: SELECT aid, abalance FROM pgbench_accounts WHERE aid IN (%s) AND filler <> 'it''s';\n" % (pre, d(), ids)]
    elif k < 90:
        lines = ["%sLOG:  duration: %s ms  statement: %s\n" % (pre, d(), report % delta)]
    elif k < 95:
        lines = ["%sLOG:  duration: %s ms  execute <unnamed>: SELECT abalance FROM pgbench_accounts WHERE aid = $1\n" % (pre, d()),
                 "%sDETAIL:  parameters: $1 = '%d'\n" % (pre, aid)]
    elif k < 97:
        # An N+1 burst from one session.
        lines = ["%sLOG:  duration: %s ms  statement: SELECT * FROM pgbench_tellers WHERE bid = %d AND tid = %d;\n" % (pre, d(), bid, n)
                 for n in range(1, 16)]
    elif k < 98:
        lines = ["%sERROR:  duplicate key value violates unique constraint \"pgbench_accounts_pkey\"\n" % pre,
                 "%sDETAIL:  Key (aid)=(%d) already exists.\n" % (pre, aid),
                 "%sSTATEMENT:  INSERT INTO pgbench_accounts (aid, bid, abalance, filler) VALUES (%d, %d, 0, '');\n" % (pre, aid, bid)]
    else:
        lines = ["%sLOG:  connection received: host=10.0.0.%d port=%d\n" % (pre, pid % 250, 40000 + i % 20000),
                 "%sLOG:  connection authorized: user=app database=bench application_name=pgbench\n" % pre]
    chunk = "".join(lines)
    buf.append(chunk)
    written += len(chunk)
    if len(buf) > 2000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
