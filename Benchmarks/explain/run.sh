#!/usr/bin/env bash
# Parsing a very large EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) plan: an Append over N
# partitions (default 40,000, about 50 MB), each a Seq Scan with every key PostgreSQL 15 prints,
# generated as one JSON document. Times `pgadvise explain FILE` end to end (read, parse, analyze,
# run the insights, render the text report to /dev/null) and reports its peak memory.
#   bash Benchmarks/explain/run.sh [partitions] [path to the pgadvise binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
partitions="${1:-40000}"
# shellcheck source=Benchmarks/release-binary.sh
source Benchmarks/release-binary.sh
bin="$(pgadvise_binary "${2:-}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
plan="$work/plan.json"

awk -v n="$partitions" 'BEGIN {
  print "[\n  {\n    \"Plan\": {\n      \"Node Type\": \"Append\",\n      \"Parallel Aware\": false,\n      \"Async Capable\": false,"
  printf "      \"Startup Cost\": 0.00,\n      \"Total Cost\": %d.00,\n      \"Plan Rows\": %d,\n      \"Plan Width\": 45,\n", n * 20, n * 100
  printf "      \"Actual Startup Time\": 0.010,\n      \"Actual Total Time\": %.3f,\n      \"Actual Rows\": %d,\n      \"Actual Loops\": 1,\n", n * 0.02, n * 10
  print "      \"Subplans Removed\": 0,\n      \"Shared Hit Blocks\": " n * 3 ",\n      \"Shared Read Blocks\": 0,\n      \"Plans\": ["
  for (i = 1; i <= n; i++) {
    printf "        {\n          \"Node Type\": \"Seq Scan\",\n          \"Parent Relationship\": \"Member\",\n"
    printf "          \"Parallel Aware\": false,\n          \"Async Capable\": false,\n"
    printf "          \"Relation Name\": \"events_p%d\",\n          \"Schema\": \"public\",\n          \"Alias\": \"events_%d\",\n", i, i
    printf "          \"Startup Cost\": 0.00,\n          \"Total Cost\": 20.00,\n          \"Plan Rows\": 100,\n          \"Plan Width\": 45,\n"
    printf "          \"Actual Startup Time\": 0.004,\n          \"Actual Total Time\": 0.015,\n          \"Actual Rows\": 10,\n          \"Actual Loops\": 1,\n"
    printf "          \"Output\": [\"events_%d.id\", \"events_%d.kind\", \"events_%d.payload\", \"events_%d.created_at\"],\n", i, i, i, i
    printf "          \"Filter\": \"((events_%d.kind = 7) AND (events_%d.created_at > '\''2024-01-01 00:00:00+00'\''::timestamp with time zone))\",\n", i, i
    printf "          \"Rows Removed by Filter\": 90,\n"
    printf "          \"Shared Hit Blocks\": 3,\n          \"Shared Read Blocks\": 0,\n          \"Shared Dirtied Blocks\": 0,\n          \"Shared Written Blocks\": 0,\n"
    printf "          \"Local Hit Blocks\": 0,\n          \"Local Read Blocks\": 0,\n          \"Local Dirtied Blocks\": 0,\n          \"Local Written Blocks\": 0,\n"
    printf "          \"Temp Read Blocks\": 0,\n          \"Temp Written Blocks\": 0,\n          \"I/O Read Time\": 0.000,\n          \"I/O Write Time\": 0.000,\n"
    printf "          \"Temp I/O Read Time\": 0.000,\n          \"Temp I/O Write Time\": 0.000\n        }%s\n", (i < n ? "," : "")
  }
  print "      ]\n    },\n    \"Planning Time\": 812.345,\n    \"Triggers\": [\n    ],\n    \"Execution Time\": " n * 0.021 "\n  }\n]"
}' > "$plan"

size=$(wc -c < "$plan")
echo "plan: $partitions partitions, $((size / 1024 / 1024)) MB" >&2
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s elapsed (%U s user, %S s system), %M kB peak memory" "$bin" explain "$plan" > /dev/null
done
