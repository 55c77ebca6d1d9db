#!/usr/bin/env bash
# Statements linted per second: `pgadvise lint` on one generated file of realistic application
# statements (joins, subqueries, CTEs, pagination, writes), with the fixture schema, on one core.
#   bash Benchmarks/lint/run.sh [statements (default 100000)] [path to the pgadvise binary]
set -euo pipefail
cd "$(dirname "$0")/../.."
statements="${1:-100000}"
# shellcheck source=Benchmarks/release-binary.sh
source Benchmarks/release-binary.sh
bin="$(pgadvise_binary "${2:-}")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
input="$work/app.sql"

# Ten statement shapes over the fixture schema, with literals that change from one statement to the
# next so no two are textually equal.
awk -v n="$statements" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = i % 10; v = i * 7 + 1
    if (k == 0) printf "SELECT id, email, name FROM users WHERE email = '\''user%d@example.com'\'' AND deleted_at IS NULL;\n", v
    else if (k == 1) printf "SELECT o.id, o.status, o.total FROM orders o JOIN users u ON u.id = o.user_id\n  WHERE u.id = %d AND o.created_at > now() - interval '\''30 days'\'' ORDER BY o.created_at DESC LIMIT 20;\n", v
    else if (k == 2) printf "SELECT * FROM users WHERE lower(email) = lower('\''User%d@Example.com'\'');\n", v
    else if (k == 3) printf "SELECT p.id, p.title, sum(i.quantity) AS sold FROM order_items i JOIN products p ON p.id = i.product_id\n  JOIN orders o ON o.id = i.order_id WHERE o.status = '\''paid'\'' AND o.total > %d GROUP BY p.id, p.title ORDER BY sold DESC LIMIT 10;\n", v
    else if (k == 4) printf "UPDATE orders SET status = '\''shipped'\'' WHERE id = %d AND status = '\''paid'\'';\n", v
    else if (k == 5) printf "SELECT id, name FROM users ORDER BY created_at DESC, id DESC LIMIT 25 OFFSET %d;\n", v
    else if (k == 6) printf "WITH recent AS (SELECT user_id, count(*) AS n FROM orders WHERE created_at > now() - interval '\''%d days'\'' GROUP BY user_id)\n  SELECT u.id, u.email, r.n FROM users u JOIN recent r ON r.user_id = u.id WHERE r.n > 3;\n", (v % 90) + 1
    else if (k == 7) printf "INSERT INTO sessions (token, user_id, expires_at) VALUES ('\''tok%d'\'', %d, now() + interval '\''1 day'\'');\n", v, v
    else if (k == 8) printf "SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.total > %d);\n", v
    else printf "DELETE FROM sessions WHERE expires_at < now() - interval '\''%d hours'\'';\n", (v % 48) + 1
  }
}' > "$input"

size=$(du -h "$input" | cut -f1)
one_core=""
if command -v taskset >/dev/null 2>&1; then one_core="taskset -c 0"; fi
echo "input: $statements statements, $size; schema fixtures/sql/schema.sql; binary $bin" >&2
# Wall time, and CPU time (user + system, from bash's `time`), which other load on the machine
# disturbs less than it disturbs wall time.
best=""
best_cpu=""
TIMEFORMAT='%R %U %S'
for run in 1 2 3; do
  { time $one_core "$bin" lint "$input" --schema fixtures/sql/schema.sql --format json > "$work/out.json"; } 2> "$work/time"
  read -r seconds user system < "$work/time"
  cpu=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.3f", u + s }')
  echo "run $run: ${seconds} s wall ($(awk -v n="$statements" -v s="$seconds" 'BEGIN { printf "%d", n / s }') statements/s), ${cpu} s CPU ($(awk -v n="$statements" -v s="$cpu" 'BEGIN { printf "%d", n / s }') statements/s)" >&2
  if [ -z "$best" ] || awk -v a="$seconds" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$seconds"; fi
  if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then best_cpu="$cpu"; fi
done
findings=$(grep -c '"rule" :' "$work/out.json" || true)
echo "best of 3: $best s wall = $(awk -v n="$statements" -v s="$best" 'BEGIN { printf "%d", n / s }') statements/s; $best_cpu s CPU = $(awk -v n="$statements" -v s="$best_cpu" 'BEGIN { printf "%d", n / s }') statements/s (one core); $findings findings"
