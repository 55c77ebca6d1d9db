"""Runs pgbench at 1, 2, 4, ... clients with the statements pgadvise measured (pool.json), each as
its own script weighted like pgadvise's, and prints both curves and the issue's two criteria."""
import glob, json, os, re, subprocess, sys

pool_json, out, pgbench, port, step, max_clients, cores = sys.argv[1:8]
step, max_clients, cores = float(step), int(max_clients), int(cores)
report = json.load(open(pool_json))
statements = report["measurement"]["statements"]

def literal(value):
    return "'" + value.replace("'", "''") + "'"

scripts = []
for i, s in enumerate(statements):
    # pgadvise binds its values as parameters; pgbench gets them as literals of unknown type,
    # which PostgreSQL types from the context exactly as it types the parameters.
    text = re.sub(r"\$(\d+)", lambda m: literal(s["parameters"][int(m.group(1)) - 1]), s["text"])
    path = os.path.join(out, f"statement{i}.sql")
    with open(path, "w") as f:
        f.write(text + ";\n")
    scripts += ["-f", f"{path}@{max(1, round(s['weight'] * 1000))}"]

def run(clients, seconds, log=None):
    args = [pgbench, "-n", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-M", "extended",
            "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(int(max(1, seconds)))] + scripts
    if log:
        args += ["-l", "--log-prefix", log]
    result = subprocess.run(args + ["demo_shop"], capture_output=True, text=True, cwd=out, check=True)
    return float(re.search(r"tps = ([\d.]+)", result.stdout).group(1))

def p95(prefix):
    latencies = []
    for path in glob.glob(prefix + "*"):
        with open(path) as f:
            latencies += [int(line.split()[2]) / 1000 for line in f if line.strip()]
        os.remove(path)
    latencies.sort()
    return latencies[max(0, int(len(latencies) * 0.95 + 0.999999) - 1)] if latencies else float("nan")

run(1, 3)  # warm the cache as pgadvise's warm-up does
levels, n = [], 1
while n <= max_clients:
    levels.append(n)
    n *= 2
bench = {}
for clients in levels:
    prefix = os.path.join(out, f"log{clients}")
    tps = run(clients, step, prefix)
    bench[clients] = (tps, p95(prefix))

curve = {level["clients"]: level for level in report["loadCurve"]}
rec = report["recommendation"]
print(f"{len(statements)} statements; pgadvise knee {report['measurement'].get('knee')}, recommended pool {rec['poolSize']}, "
      f"formula {rec.get('formulaPoolSize')}; USL optimum {(report['measurement'].get('scalability') or {}).get('optimumClients')}")
print(f"{'clients':>7}  {'pgadvise st/s':>13}  {'p95 ms':>7}  {'pgbench tps':>11}  {'p95 ms':>7}")
for clients in levels:
    a = curve.get(clients)
    b = bench[clients]
    pa = f"{a['tps']:13.0f}  {a['p95Ms']:7.2f}" if a else f"{'-':>13}  {'-':>7}"
    print(f"{clients:>7}  {pa}  {b[0]:11.0f}  {b[1]:7.2f}")
if rec.get("before") and rec.get("after"):
    before, after = rec["before"], rec["after"]
    print(f"before/after (pgadvise, interleaved): current {before['clients']}: {before['tps']:.0f} statements/s, p95 {before['p95Ms']:.2f} ms; "
          f"recommended {after['clients']}: {after['tps']:.0f} statements/s, p95 {after['p95Ms']:.2f} ms")
size = rec["poolSize"]
best = max(t for t, _ in bench.values())
at_size = bench.get(size)
reference = bench.get(4 * cores) or bench[max(c for c in levels if c <= 4 * cores)]
if at_size:
    share = at_size[0] / best
    print(f"criterion 1: pgbench at {size} clients {at_size[0]:.0f} tps = {share:.1%} of pgbench's best {best:.0f}: "
          + ("PASS" if share >= 0.95 else "FAIL"))
    print(f"criterion 2: pgbench p95 at {size} clients {at_size[1]:.2f} ms vs {reference[1]:.2f} ms at 4 x cores: "
          + ("PASS" if at_size[1] <= reference[1] else "FAIL"))
else:
    print(f"recommended size {size} is not a pgbench level")
