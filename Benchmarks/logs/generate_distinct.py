#!/usr/bin/env python3
"""Writes a stderr log (log_min_duration_statement = 0, prefix '%m [%p] ') of STATEMENTS statements whose
texts are mostly distinct, as schema-per-tenant and partition-per-day applications write them:
  partitions  every statement names one of 2,000 tenant schemas and one of 100 daily partitions:
              200,000 distinct (schema, partition) texts, each seen STATEMENTS / 200,000 times
  tenants     every statement names one of TENANTS (default 20,000) tenant schemas, in one of three shapes:
              libpg_query keeps schema names, so 3 x TENANTS fingerprints
Literal values vary on every line. Deterministic, so runs compare.
  python3 generate_distinct.py partitions 1000000 > log
  python3 generate_distinct.py tenants 1000000 40000 > log   # twice the fingerprints: the difference in
                                                             # peak memory is the cost of 60,000 of them"""
import random, sys, time

mode = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
tenants = int(sys.argv[3]) if len(sys.argv) > 3 else 20_000
rng = random.Random(7)
out = sys.stdout
t0 = 1_700_000_000
shapes = [
    "SELECT id, status, total FROM {s}.orders WHERE customer_id = {v} ORDER BY created_at DESC LIMIT 20;",
    "UPDATE {s}.orders SET status = 'shipped' WHERE id = {v};",
    "INSERT INTO {s}.events (kind, payload) VALUES ('view', '{{\"item\": {v}}}');",
]
buf = []
for i in range(count):
    ts = t0 + i // 200
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + ".%03d UTC" % (i % 1000)
    v = rng.randrange(1, 10_000_000)
    if mode == "partitions":
        combo = i % 200_000
        tenant, day = combo // 100, combo % 100
        text = "SELECT count(*), sum(amount) FROM tenant_%04d.payments_2024%02d%02d WHERE account_id = %d;" % (
            tenant, 1 + day // 28, 1 + day % 28, v)
    else:
        text = shapes[i % 3].format(s="tenant_%05d" % (i % tenants), v=v)
    buf.append("%s [%d] LOG:  duration: %.3f ms  statement: %s\n" % (stamp, 30000 + i % 64, rng.random() ** 3 * 20, text))
    if len(buf) >= 10_000:
        out.write("".join(buf))
        buf = []
out.write("".join(buf))
