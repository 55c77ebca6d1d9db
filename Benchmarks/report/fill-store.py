#!/usr/bin/env python3
"""Fills a pgadvise history store with daily pg_stat_statements snapshots of one server:
fill-store.py STORE DAYS STATEMENTS. The store must exist (made by `pgadvise snapshot`), so its
schema is pgadvise's own. Counters grow every day as cumulative counters do; every tenth statement
gets 40% slower in the last week, so the report has regressions to find."""
import datetime
import random
import sqlite3
import sys

store, days, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(42)
db = sqlite3.connect(store)
db.execute("PRAGMA journal_mode = WAL")
end = datetime.datetime(2026, 11, 22, 23, 0, tzinfo=datetime.timezone.utc)
statements = [(f"{i:016x}", f"SELECT c{i % 20}, c{(i + 7) % 20} FROM t{i // 20} WHERE id = $1 AND c{i % 13} > $2")
              for i in range(count)]
db.executemany("INSERT INTO statement (fingerprint, normalized) VALUES (?, ?) ON CONFLICT DO NOTHING", statements)
rate = [random.randint(10, 5000) for _ in range(count)]
mean = [random.uniform(0.05, 40.0) for _ in range(count)]
calls = [0] * count
total = [0.0] * count
for day in range(days):
    taken = end - datetime.timedelta(days=days - 1 - day)
    last_week = day >= days - 7
    for i in range(count):
        calls[i] += rate[i]
        total[i] += rate[i] * mean[i] * (1.4 if last_week and i % 10 == 0 else 1.0)
    cur = db.execute(
        "INSERT INTO snapshot (taken_at, source, server, server_label, database, stats_reset) VALUES (?, ?, ?, ?, ?, ?)",
        (taken.strftime("%Y-%m-%dT%H:%M:%SZ"), "pg_stat_statements", "system 1", "db1:5432", "shop",
         "2026-01-01T00:00:00+00:00"))
    sid = cur.lastrowid
    db.executemany(
        "INSERT INTO snapshot_statement (snapshot_id, fingerprint, query_id, calls, total_ms, rows, shared_blks_hit,"
        " shared_blks_read, temp_blks_written) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(sid, statements[i][0], i, calls[i], total[i], calls[i], calls[i] * 4, calls[i] // 10, 0) for i in range(count)])
db.commit()
print(f"{days} snapshots x {count} statements in {store}")
