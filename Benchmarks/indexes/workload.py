#!/usr/bin/env python3
"""Benchmark harness for `pgadvise indexes` (see BENCHMARKS.md, section "pgadvise indexes").

Runs the application workload through pgbench (prepared statements, so pg_stat_statements and
pg_qualstats see it as an application would), then, in the same run and on the same data, builds the
hand-picked ideal set (ideal.sql) and asks the advisors for indexes: pgadvise (default settings, from
pg_stat_statements alone, then with --logs), pg_qualstats_index_advisor(), and the Dexter-rule
baseline (`pgadvise indexes --strategy dexter-rule`). For each, it builds the indexes, ANALYZEs, times
every statement (median of RUNS EXPLAIN ANALYZE executions after one warm-up), weights by calls, sums
the bytes built, and drops the indexes again. Usage: workload.py DSN PGADVISE_BINARY
"""
import os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from advisorbench import Database, pgadvise  # noqa: E402

DSN, PGADVISE = sys.argv[1], sys.argv[2]
# The server log: the fill phase is logged with every statement's duration and values, and both
# pgadvise runs read it with --logs (literal values that pg_stat_statements normalizes away).
LOG_FILE = os.environ.get("LOG_FILE")
RUNS = int(os.environ.get("RUNS", "5"))

# name, calls (weights of the workload), pgbench script (prepared), measured variants (literal values)
STATEMENTS = [
    ("customer by email", 2000, "\\set n random(1, 200000)\nSELECT id FROM customers WHERE lower(email) = 'user'::text || :n || '@example.com';",
     ["SELECT id FROM customers WHERE lower(email) = 'user%d@example.com'" % n for n in (17, 9001, 150000)]),
    ("customer by name", 1000, "\\set n random(1, 200000)\nSELECT id, country FROM customers WHERE name = 'name '::text || :n;",
     ["SELECT id, country FROM customers WHERE name = 'name %d'" % n for n in (17, 9001, 150000)]),
    # Large accounts dominate the calls (seven in ten), as they do in a SaaS; one statement text for both.
    ("latest orders of a customer", 5000,
     "\\set big random(1, 10)\n\\if :big <= 7\n\\set c random(1, 20)\n\\else\n\\set c random(21, 200000)\n\\endif\n"
     "SELECT * FROM orders WHERE customer_id = :c ORDER BY created_at DESC LIMIT 20;",
     ["SELECT * FROM orders WHERE customer_id = %d ORDER BY created_at DESC LIMIT 20" % c
      for c in (1, 3, 5, 8, 12, 16, 20, 777, 90001, 150000)]),
    ("pending orders", 1000, "SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50;",
     ["SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50"]),
    # A parameter on a skewed column, always called with the rare value (1% of the orders).
    ("orders in a status", 1000, "SELECT 'pending' AS s \\gset\nSELECT * FROM orders WHERE status = :s ORDER BY created_at LIMIT 50;",
     ["SELECT * FROM orders WHERE status = 'pending' ORDER BY created_at LIMIT 50"]),
    ("revenue per customer for a day", 200,
     "\\set d random(0, 360)\nSELECT customer_id, sum(total) FROM orders WHERE created_at >= '2024-01-01'::timestamptz + :d * '1 day'::interval AND created_at < '2024-01-02'::timestamptz + :d * '1 day'::interval GROUP BY customer_id;",
     ["SELECT customer_id, sum(total) FROM orders WHERE created_at >= timestamptz '2024-01-01' + %d * interval '1 day' AND created_at < timestamptz '2024-01-02' + %d * interval '1 day' GROUP BY customer_id" % (d, d) for d in (3, 150, 300)]),
    ("product by sku", 3000, "\\set n random(1, 200000)\nSELECT id, description FROM products WHERE sku = 'SKU-'::text || :n;",
     ["SELECT id, description FROM products WHERE sku = 'SKU-%d'" % n for n in (17, 9001, 150000)]),
    ("products by attribute", 200, "\\set n random(0, 52)\nSELECT id FROM products WHERE attrs @> jsonb_build_object('color'::text, 'c'::text || :n);",
     ["SELECT id FROM products WHERE attrs @> '{\"color\": \"c%d\"}'" % n for n in (1, 20, 52)]),
    ("products by tag", 200, "\\set n random(0, 96)\nSELECT id FROM products WHERE tags && ARRAY['t'::text || :n];",
     ["SELECT id FROM products WHERE tags && ARRAY['t%d']" % n for n in (1, 40, 96)]),
    ("events of an hour", 300,
     "\\set h random(0, 800)\nSELECT avg(value) FROM events WHERE recorded_at >= '2024-01-01'::timestamptz + :h * '1 hour'::interval AND recorded_at < '2024-01-01'::timestamptz + (:h + 1) * '1 hour'::interval;",
     ["SELECT avg(value) FROM events WHERE recorded_at >= timestamptz '2024-01-01' + %d * interval '1 hour' AND recorded_at < timestamptz '2024-01-01' + %d * interval '1 hour'" % (h, h + 1) for h in (2, 400, 799)]),
    # An index-only aggregate on a repeated key.
    ("units sold of a product", 1000, "\\set p random(1, 2000)\nSELECT sum(quantity) FROM order_items WHERE product_id = :p;",
     ["SELECT sum(quantity) FROM order_items WHERE product_id = %d" % p for p in (7, 1001, 1999)]),
    ("ship an order", 2000, "\\set n random(1, 1000000)\nUPDATE orders SET status = 'shipped' WHERE id = :n;",
     ["UPDATE orders SET status = 'shipped' WHERE id = %d" % n for n in (17, 500000, 999999)]),
]
# pgbench runs a share of the calls (at least 3): pg_stat_statements weights are relative, and seq scans are slow.
FILL_SHARE = float(os.environ.get("FILL_SHARE", "0.01"))


DB = Database(DSN)
psql = DB.psql


def fill():
    if LOG_FILE:
        psql("ALTER DATABASE bench SET log_min_duration_statement = 0;")
    for name, calls, script, _ in STATEMENTS:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
            f.write(script + "\n")
        n = max(3, int(calls * FILL_SHARE))
        subprocess.run(["pgbench", "-n", "-M", "prepared", "-t", str(n), "-f", f.name, DSN], check=True, capture_output=True)
        os.unlink(f.name)
    if LOG_FILE:
        psql("ALTER DATABASE bench RESET log_min_duration_statement;")


def measure():
    """Per statement: the mean over its variants (the values its calls use, repeated in their
    proportion) of each variant's median execution time (ms) and buffers over RUNS runs, after one
    warm-up run of every variant."""
    result = {}
    for name, calls, _, variants in STATEMENTS:
        times, buffers = [], []
        for v in variants:
            DB.timing(v)
        for v in variants:
            runs = [DB.timing(v) for _ in range(RUNS)]
            times.append(statistics.median(ms for ms, _ in runs)); buffers.append(statistics.median(b for _, b in runs))
        result[name] = (statistics.mean(times), statistics.mean(buffers))
    return result


def workload_ms(per_statement):
    return sum(calls * per_statement[name][0] for name, calls, _, _ in STATEMENTS)


def advise(extra, logs=False):
    """pgadvise's advice from pg_stat_statements and the catalog alone, or with the fill's server log."""
    return pgadvise(PGADVISE, DSN, LOG_FILE if logs else None, extra)


IDEAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ideal.sql")


def ideal_ddls():
    """The hand-picked set in ideal.sql, one CREATE INDEX per statement."""
    text = "\n".join(line for line in open(IDEAL) if not line.lstrip().startswith("--"))
    return [ddl.strip() for ddl in text.split(";") if ddl.strip()]


def main():
    print("filling pg_stat_statements and pg_qualstats ...", file=sys.stderr)
    psql("SELECT pg_stat_statements_reset(); SELECT pg_qualstats_reset(); SELECT pg_stat_reset();")
    fill()
    # Weights as pg_stat_statements sees them (the fill ran a share of each statement's calls).
    print("measuring the workload without new indexes ...", file=sys.stderr)
    base = measure()
    rows = [("no new index", base, [], 0, 0.0, None)]

    created, size, built = DB.apply(ideal_ddls())
    rows.append(("hand-picked ideal set (ideal.sql)", measure(), ideal_ddls(), size, 0, None))
    DB.drop(created)

    started = time.time()
    advice = advise([])
    advise_s = time.time() - started
    for skipped in advice["skipped"]:
        print("pgadvise skipped %s: %s" % (skipped["text"][:80], skipped["reason"]), file=sys.stderr)
    for note in advice["notes"]:
        print("pgadvise note: " + note, file=sys.stderr)
    ddls = [r["ddl"] for r in advice["recommendations"]]
    created, size, built = DB.apply(ddls)
    # Estimated (pg_stats) against built size, per recommended index.
    size_lines = []
    for r in advice["recommendations"]:
        real = DB.index_size(r["name"])
        size_lines.append("    %-40s estimated %12s  built %12s" % (r["name"], "{:,}".format(r["sizeBytes"]), "{:,}".format(real)))
    rows.append(("pgadvise indexes", measure(), ddls, size, advise_s, advice))
    DB.drop(created)
    if LOG_FILE:
        with_logs = advise([], logs=True)
        ddls = [r["ddl"] for r in with_logs["recommendations"]]
        created, size, built = DB.apply(ddls)
        rows.append(("pgadvise indexes --logs", measure(), ddls, size, 0, with_logs))
        DB.drop(created)
    # The same advice verified by pgadvise itself: each index built in a rolled-back transaction, its
    # reads and the writes it adds maintenance to timed before and after.
    verified = advise(["--measure", "--measure-runs", str(RUNS)])

    dexter = advise(["--strategy", "dexter-rule"])
    ddls = [r["ddl"] for r in dexter["recommendations"]]
    created, size, built = DB.apply(ddls)
    rows.append(("Dexter rule (halve the cost, 1-2 column B-trees)", measure(), ddls, size, 0, None))
    DB.drop(created)

    ddls = DB.qualstats_ddls()
    created, size, built = DB.apply(ddls)
    rows.append(("pg_qualstats_index_advisor()", measure(), ddls, size, 0, None))
    DB.drop(created)

    total_base = workload_ms(base)
    ideal_total, ideal_size = workload_ms(rows[1][1]), rows[1][3]
    print("| Configuration | Workload time (ms, calls x median) | vs. none | vs. ideal | Index bytes built | vs. ideal | Indexes |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, per, ddls, size, _, _ in rows:
        total = workload_ms(per)
        print("| %s | %.0f | %.1f%% | %.2fx | %s | %.2fx | %d |" % (label, total, 100 * total / total_base, total / ideal_total,
                                                                 "{:,}".format(size), size / ideal_size if ideal_size else 0, len(ddls)))
    print()
    print("| Statement | calls | " + " | ".join(label for label, _, _, _, _, _ in rows) + " |")
    print("|---|---:|" + "---:|" * len(rows))
    for name, calls, _, _ in STATEMENTS:
        print("| %s | %d | %s |" % (name, calls, " | ".join("%.3f" % r[1][name][0] for r in rows)))
    print()
    for label, _, ddls, _, _, _ in rows[1:]:
        print("%s:" % label)
        for d in ddls:
            print("    " + d)
    # Estimated against measured improvement for each pgadvise recommendation's statements.
    pgadvise_row = rows[2]
    if advice["workloadCostBefore"] and advice["workloadCostAfter"]:
        print()
        print("pgadvise ran in %.1f s. Estimated workload cost %.0f -> %.0f (%.1f%% lower); measured %.1f%% lower."
              % (advise_s, advice["workloadCostBefore"], advice["workloadCostAfter"],
                 100 * (1 - advice["workloadCostAfter"] / advice["workloadCostBefore"]),
                 100 * (1 - workload_ms(pgadvise_row[1]) / total_base)))
    print("pgadvise budget %s bytes; index sizes:" % "{:,}".format(advice["budgetBytes"]))
    print("\n".join(size_lines))
    print()
    print("pgadvise indexes --measure (median of %d runs; ms over the workload's calls):" % RUNS)
    for r in verified["recommendations"] + [w["recommendation"] for w in verified["withdrawn"]]:
        m = r.get("measured") or {}
        print("    %-40s reads save %10.1f  writes add %8.1f  %s" % (
            r["name"], m.get("readMsSaved") or 0, m.get("writeMsAdded") or 0,
            "kept" if r in verified["recommendations"] else "withdrawn"))
        for w in (r.get("writeOverhead") or {}).get("statements", []):
            wm = w.get("measured")
            print("        %s %s calls %d%s%s" % (w["kind"], w["text"][:60], w["calls"], ", loses HOT" if w["losesHot"] else "",
                                              ", %.3f -> %.3f ms" % (wm["beforeMs"], wm["afterMs"]) if wm else ", not measured"))
    for w in verified["withdrawn"]:
        print("    withdrawn %s: %s" % (w["recommendation"]["name"], w["reason"]))
    after = pgadvise_row[1]
    regressions = [name for name, _, _, _ in STATEMENTS if after[name][0] > base[name][0] * 1.1 and after[name][0] - base[name][0] > 0.05]
    print("Statements slower after pgadvise's indexes (>10%% and >0.05 ms): %s" % (", ".join(regressions) or "none"))


if __name__ == "__main__":
    main()
