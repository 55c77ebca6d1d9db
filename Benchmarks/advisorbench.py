"""What the index-advisor benchmarks (Benchmarks/indexes, Benchmarks/tpch) share: running SQL through
psql, timing one statement with EXPLAIN ANALYZE, building an advisor's indexes and dropping them again,
and asking pgadvise and pg_qualstats_index_advisor() for indexes."""
import json, subprocess, time


class StatementTimeout(Exception):
    """The statement ran past the statement_timeout it was given."""


class Database:
    def __init__(self, dsn):
        self.dsn = dsn

    def psql(self, sql):
        out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.dsn, "-f", "-"], input=sql,
                             capture_output=True, text=True)
        if out.returncode != 0:
            if "canceling statement due to statement timeout" in out.stderr:
                raise StatementTimeout(sql[:200])
            raise SystemExit("psql failed: %s\n%s" % (out.stderr, sql[:300]))
        return out.stdout

    def timing(self, sql, timeout_ms=None, node_timing=True):
        """(execution ms, shared buffers hit or read) of one EXPLAIN ANALYZE run, rolled back. Without
        node_timing the plan's nodes are not timed, which keeps the clock calls of millions of rows out
        of the figure; StatementTimeout past timeout_ms."""
        options = "ANALYZE, BUFFERS, FORMAT JSON" + ("" if node_timing else ", TIMING OFF")
        limit = "SET LOCAL statement_timeout = %d;\n" % timeout_ms if timeout_ms else ""
        wrapped = "BEGIN;\n%sEXPLAIN (%s) %s;\nROLLBACK;\n" % (limit, options, sql.strip().rstrip(";"))
        plan = json.loads(self.psql(wrapped))[0]
        root = plan["Plan"]
        return plan["Execution Time"], root.get("Shared Hit Blocks", 0) + root.get("Shared Read Blocks", 0)

    def user_indexes(self):
        return set(self.psql("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").split())

    def index_size(self, name):
        return int(self.psql("SELECT coalesce(pg_relation_size(to_regclass('public.%s')), 0)" % name) or 0)

    def apply(self, ddls):
        """Builds the indexes (without CONCURRENTLY) and ANALYZEs: (names created, bytes, seconds)."""
        before = self.user_indexes()
        started = time.time()
        for ddl in ddls:
            self.psql(ddl.replace(" CONCURRENTLY", "") + ";")
        self.psql("ANALYZE;")
        built = time.time() - started
        created = sorted(self.user_indexes() - before)
        return created, sum(self.index_size(name) for name in created), built

    def drop(self, created):
        for name in created:
            self.psql('DROP INDEX "%s";' % name)
        self.psql("ANALYZE;")

    def qualstats_ddls(self):
        """pg_qualstats_index_advisor()'s indexes, in the order it returns them."""
        doc = json.loads(self.psql("SELECT pg_qualstats_index_advisor(min_filter => 50, min_selectivity => 30);"))
        return list(doc.get("indexes") or [])


def pgadvise(binary, dsn, log_file, extra):
    """`pgadvise indexes` as JSON, reading the server log with --logs when there is one."""
    logs = ["--logs", log_file] if log_file else []
    out = subprocess.run([binary, "indexes", dsn, "--format", "json", "--statement-timeout", "600000"] + logs + extra,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("pgadvise failed: " + out.stderr)
    return json.loads(out.stdout)
