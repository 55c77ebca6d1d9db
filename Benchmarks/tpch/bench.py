#!/usr/bin/env python3
"""TPC-H SF1 harness for `pgadvise indexes` (see BENCHMARKS.md, "pgadvise indexes on TPC-H SF1").

The database holds primary keys only. The fill phase runs the 22 queries once each with the server
logging every statement, so pg_stat_statements, pg_qualstats and the log see the workload. Then, from
the same state, three advisors answer: pgadvise at each budget, the Dexter-rule baseline
(`pgadvise indexes --strategy dexter-rule`) and pg_qualstats_index_advisor(). The peers have no budget:
each of their indexes is built once to learn its size, and at each budget a peer gets the longest prefix
of its own ranking that fits. Each distinct set of indexes is built, ANALYZEd, timed and dropped once.
Usage: bench.py DSN PGADVISE_BINARY
Environment: LOG_FILE (the server log), TIMEOUT_MS (statement timeout of every run, default 60000),
RUNS (timed runs per query, default 3), BUDGETS (default 100MB,250MB,1GB), PEERS=0 (pgadvise only: for
trying a change to the advisor, not for figures that compare), MEASURE=0 (pgadvise without --measure:
HypoPG estimates only; by default it verifies each index with --measure, MEASURE_RUNS timed runs per
side, default 1 after the warm-up run, under the same timeout), ERRORS_ONLY=1 (the fill phase logs
errors only, as a default server does, and has no helper index for the statements that time out).
"""
import glob, os, statistics, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from advisorbench import Database, StatementTimeout, pgadvise  # noqa: E402

DSN, PGADVISE = sys.argv[1], sys.argv[2]
LOG_FILE = os.environ.get("LOG_FILE")
TIMEOUT_MS = int(os.environ.get("TIMEOUT_MS", "60000"))
RUNS = int(os.environ.get("RUNS", "3"))
# A query whose first run takes this long is not repeated: its run-to-run spread is small next to
# its time, and repeating the slow ones would take most of the harness's time.
LONG_MS = float(os.environ.get("LONG_MS", "10000"))
BUDGETS = os.environ.get("BUDGETS", "100MB,250MB,1GB").split(",")
PEERS = os.environ.get("PEERS", "1") != "0"
MEASURE = os.environ.get("MEASURE", "1") != "0"
# One timed run after a warm-up: these statements run for seconds, their run-to-run spread on a quiet
# machine is a few percent against a 10% regression threshold, and each extra run costs every budget
# minutes (each index is measured on every statement it serves).
MEASURE_RUNS = os.environ.get("MEASURE_RUNS", "1")
# ERRORS_ONLY=1: the fill phase logs as a default server does (errors only, no durations), and the
# statements that time out are seen only through their cancellation in the log and pg_stat_statements.
ERRORS_ONLY = os.environ.get("ERRORS_ONLY", "0") == "1"
UNITS = {"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}
# Q17 and Q20 correlate a subquery on lineitem with every qualifying part: without an index on
# lineitem's part key each runs for hours at SF1, and a statement cancelled by its timeout never
# reaches pg_stat_statements, pg_qualstats or the duration log. Only in the fill phase, and only for a
# query that timed out, this index lets the query finish once so the advisors can see it; it is
# dropped before any advisor is asked.
FILL_HELPER = "CREATE INDEX tpch_fill_helper ON lineitem (l_partkey)"

DB = Database(DSN)
HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = []
for path in sorted(glob.glob(os.path.join(HERE, "queries", "q*.sql"))):
    text = "".join(line for line in open(path) if not line.startswith("--")).strip()
    QUERIES.append(("Q%d" % int(os.path.basename(path)[1:3]), text))


def log(message):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), message), file=sys.stderr, flush=True)


def budget_bytes(text):
    number = text.rstrip("kKmMgGbB")
    return int(float(number) * UNITS[text[len(number):].lower()])


def run_limited(sql):
    DB.psql("SET statement_timeout = %d;\n%s;\n" % (TIMEOUT_MS, sql.rstrip(";")))


def fill():
    database = DB.psql("SELECT current_database()").strip()
    if ERRORS_ONLY:
        # As a server logs by default: no duration lines, and a statement cancelled by
        # statement_timeout leaves only its ERROR and STATEMENT lines. No helper index either.
        for name, sql in QUERIES:
            try:
                run_limited(sql)
            except StatementTimeout:
                log("fill %s timed out: only its cancellation is logged" % name)
        return []
    DB.psql('ALTER DATABASE "%s" SET log_min_duration_statement = 0;' % database)
    timed_out = []
    for name, sql in QUERIES:
        started = time.time()
        try:
            run_limited(sql)
            log("fill %s %.1f s" % (name, time.time() - started))
        except StatementTimeout:
            log("fill %s timed out" % name)
            timed_out.append((name, sql))
    helped = []
    if timed_out:
        DB.psql(FILL_HELPER + ";\nANALYZE lineitem;")
        for name, sql in timed_out:
            try:
                run_limited(sql)
                helped.append(name)
            except StatementTimeout:
                log("fill %s timed out even with the helper index: the advisors will not see it" % name)
        DB.psql("DROP INDEX tpch_fill_helper;\nANALYZE lineitem;")
    DB.psql('ALTER DATABASE "%s" RESET log_min_duration_statement;' % database)
    return helped


def measure():
    """Per query: (median ms, runs, timed out). A run past the timeout counts as TIMEOUT_MS and is not
    repeated. No separate warm-up: the fill phase and the index builds leave the tables and indexes in
    the OS cache (the database is 1.5 GB on a 24 GB machine), and shared_buffers cannot hold lineitem."""
    result = {}
    for name, sql in QUERIES:
        times = []
        timed_out = False
        for _ in range(RUNS):
            try:
                ms, _ = DB.timing(sql, TIMEOUT_MS, node_timing=False)
            except StatementTimeout:
                times, timed_out = [float(TIMEOUT_MS)], True
                break
            times.append(ms)
            if ms >= LONG_MS:
                break
        result[name] = (statistics.median(times), len(times), timed_out)
    return result


def total_ms(per_query):
    return sum(ms for ms, _, _ in per_query.values())


MEASURED = {}


def measured(ddls, label):
    """(per-query figures, bytes built, names built) for a set of indexes, measured once per distinct set."""
    key = tuple(sorted(ddls))
    if key not in MEASURED:
        started = time.time()
        created, size, built = DB.apply(ddls)
        log("%s: built %d indexes (%s bytes) in %.0f s; timing ..." % (label, len(created), "{:,}".format(size), built))
        per_query = measure()
        sizes = {name: DB.index_size(name) for name in created}
        DB.drop(created)
        log("%s: workload %.1f s, measured in %.0f s" % (label, total_ms(per_query) / 1000, time.time() - started))
        MEASURED[key] = (per_query, size, sizes)
    return MEASURED[key]


def peer_sizes(ddls, largest_budget):
    """Bytes of each of a peer's indexes in its order, built one at a time (and dropped again), until
    they add up to more than the largest budget: no prefix needs the rest."""
    sizes, known = [], {}
    for ddl in ddls:
        if sum(sizes) > largest_budget:
            break
        if ddl not in known:
            before = DB.user_indexes()
            DB.psql(ddl.replace(" CONCURRENTLY", "") + ";")
            created = sorted(DB.user_indexes() - before)
            known[ddl] = sum(DB.index_size(name) for name in created)
            for name in created:
                DB.psql('DROP INDEX "%s";' % name)
        sizes.append(known[ddl])
    return sizes


def fitting_prefix(ddls, sizes, budget):
    chosen, used = [], 0
    for ddl, size in zip(ddls, sizes):
        if used + size > budget:
            break
        chosen.append(ddl)
        used += size
    return chosen


def short(ddl):
    """`lineitem (l_partkey, l_suppkey)` from a CREATE INDEX statement."""
    text = ddl.replace(" CONCURRENTLY", "").replace("public.", "")
    on = text.find(" ON ")
    body = text[on + 4:] if on >= 0 else text
    return body.replace(" USING btree", "")


def improvement(rec):
    """A recommendation's estimated and (with --measure) measured improvement on the statements it
    serves, call-weighted, as pgadvise reports them."""
    text = ""
    before, after = rec.get("estimatedCostBefore"), rec.get("estimatedCostAfter")
    if before:
        text += "; estimated %.1f%% lower" % (100 * (1 - after / before))
    m = rec.get("measured")
    if m and m["beforeMs"]:
        cut = any((s.get("measured") or {}).get("beforeCutOff") for s in rec["statements"])
        text += ", measured %.1f%% lower (%.0f -> %.0f ms%s)" % (100 * (1 - m["afterMs"] / m["beforeMs"]), m["beforeMs"], m["afterMs"],
                                                             ", before capped at the timeout" if cut else "")
    return text


def main():
    with open("/proc/loadavg") as f:
        log("load average at start: " + " ".join(f.read().split()[:3]))
    run_started = time.time()
    DB.psql("SELECT pg_stat_statements_reset(); SELECT pg_qualstats_reset(); SELECT pg_stat_reset();")
    log("fill phase: the 22 queries once each, logged")
    helped = fill()

    answers = {}
    for budget in BUDGETS:
        started = time.time()
        measuring = ["--measure", "--measure-runs", MEASURE_RUNS, "--measure-timeout", str(TIMEOUT_MS)] if MEASURE else []
        advice = pgadvise(PGADVISE, DSN, LOG_FILE, ["--budget", budget] + measuring)
        log("pgadvise --budget %s answered in %.1f s: %d indexes" % (budget, time.time() - started, len(advice["recommendations"])))
        for skipped in advice["skipped"]:
            log("pgadvise skipped %s: %s" % (" ".join(skipped["text"].split())[:100], skipped["reason"]))
        for note in advice["notes"]:
            log("pgadvise note: " + note)
        for withdrawn in advice.get("withdrawn", []):
            log("pgadvise withdrew %s: %s" % (short(withdrawn["recommendation"]["ddl"]), withdrawn["reason"]))
        answers[budget] = (advice, time.time() - started)
    dexter = [r["ddl"] for r in pgadvise(PGADVISE, DSN, LOG_FILE, ["--strategy", "dexter-rule"])["recommendations"]] if PEERS else []
    qualstats = DB.qualstats_ddls() if PEERS else []
    log("Dexter rule: %d indexes; pg_qualstats: %d indexes; sizing them" % (len(dexter), len(qualstats)))
    largest = max(budget_bytes(b) for b in BUDGETS)
    dexter_sizes, qualstats_sizes = peer_sizes(dexter, largest), peer_sizes(qualstats, largest)

    log("measuring without new indexes")
    none = measured([], "no new index")
    rows = {}
    for budget in BUDGETS:
        limit = budget_bytes(budget)
        advice = answers[budget][0]
        rows[budget] = [
            ("pgadvise indexes", [r["ddl"] for r in advice["recommendations"]]),
            ("Dexter rule", fitting_prefix(dexter, dexter_sizes, limit)),
            ("pg_qualstats", fitting_prefix(qualstats, qualstats_sizes, limit)),
        ][:3 if PEERS else 1]
        for label, ddls in rows[budget]:
            measured(ddls, "%s at %s" % (label, budget))

    base = total_ms(none[0])
    names = [name for name, _ in QUERIES]
    print("TPC-H SF1, statement timeout %d s, median of up to %d runs (one run at %d s or more)."
          % (TIMEOUT_MS // 1000, RUNS, LONG_MS // 1000))
    if helped:
        print("Seen by the advisors only through the fill phase's helper index: %s." % ", ".join(helped))
    print()
    for budget in BUDGETS:
        advice, advise_s = answers[budget]
        print("Budget %s:" % budget)
        print()
        print("| Configuration | Workload time (s) | vs. none | Index bytes built | Indexes | Timeouts |")
        print("|---|---:|---:|---:|---:|---:|")
        configurations = [("no new index", [])] + rows[budget]
        for label, ddls in configurations:
            per_query, size, _ = measured(ddls, label)
            total = total_ms(per_query)
            timeouts = sum(1 for _, _, t in per_query.values() if t)
            print("| %s | %.1f | %.1f%% | %s | %d | %d |" % (label, total / 1000, 100 * total / base, "{:,}".format(size),
                                                               len(ddls), timeouts))
        print()
        print("| Query | none (ms) | %s |" % " | ".join(label for label, _ in rows[budget]))
        print("|---|---:|%s" % ("---:|" * len(rows[budget])))
        for name in names:
            cells = []
            for _, ddls in configurations:
                ms, _, timed_out = measured(ddls, "")[0][name]
                cells.append(("> %.0f" % ms) if timed_out else "%.0f" % ms)
            print("| %s | %s |" % (name, " | ".join(cells)))
        print()
        for label, ddls in rows[budget]:
            print("%s: %s" % (label, "; ".join(short(d) for d in ddls) or "none"))
        after = total_ms(measured(rows[budget][0][1], "")[0])
        if advice.get("workloadCostBefore") and advice.get("workloadCostAfter"):
            print("pgadvise answered in %.1f s. Estimated workload cost %.0f -> %.0f (%.1f%% lower); measured %.1f%% lower."
                  % (advise_s, advice["workloadCostBefore"], advice["workloadCostAfter"],
                     100 * (1 - advice["workloadCostAfter"] / advice["workloadCostBefore"]), 100 * (1 - after / base)))
        built_sizes = measured(rows[budget][0][1], "")[2]
        for r in advice["recommendations"]:
            print("    %-45s size %13s  built %13s%s" % (r["name"], "{:,}".format(r["sizeBytes"]),
                                                        "{:,}".format(built_sizes.get(r["name"], 0)), improvement(r)))
        for w in advice.get("withdrawn", []):
            print("    withdrawn %s: %s" % (short(w["recommendation"]["ddl"]), w["reason"]))
        for label, ddls in rows[budget]:
            per_query = measured(ddls, "")[0]
            slower = ["%s %.0f -> %.0f ms" % (n, none[0][n][0], per_query[n][0]) for n in names
                      if per_query[n][0] > none[0][n][0] * 1.1 and per_query[n][0] - none[0][n][0] > 100]
            print("Queries slower after %s's indexes (>10%% and >100 ms): %s" % (label, ", ".join(slower) or "none"))
        print()
    print("Peer index sizes (built one at a time): Dexter rule %s; pg_qualstats %s"
          % (", ".join("{:,}".format(s) for s in dexter_sizes), ", ".join("{:,}".format(s) for s in qualstats_sizes)))
    with open("/proc/loadavg") as f:
        print("Load average at the end: %s; whole run (after the load) %.0f s."
              % (" ".join(f.read().split()[:3]), time.time() - run_started))


if __name__ == "__main__":
    main()
