#!/usr/bin/env bash
# Soak test on PostgreSQL + Redis (a fresh database and key prefix, dropped at exit):
# mixes the flows at once for the whole duration (GET /auth/me, send-otp with a new
# address each, log-in with the right password, GET /health), records the server's
# RSS (from /proc) every 30 s (or every tenth of a short run), and counts the answers
# of every flow by status at the end. Stops by itself.
#
# Usage: scripts/soak.sh [seconds, default 600]   (`just soak`)
# Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-600}"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

password="correct horse battery staple"
start_server postgres
token=$(sign_in "soak-me@example.com")
sign_in "soak-login@example.com" "$password" >/dev/null
printf 'wrk.method = "POST"\nwrk.body = %s\n' \
  "'{\"email\":\"soak-login@example.com\",\"password\":\"$password\"}'" >"$work/login-body.lua"
cat "$work/count.lua" "$work/login-body.lua" >"$work/login.lua"

echo "## soak $(date -u +%F) on $(nproc) cores, ${duration}s, PostgreSQL + Redis, commit $(git rev-parse --short HEAD)"
echo
flows=(me send login health)
BENCH_THREADS=1 wrk --timeout 10s -t1 -c16 -d"${duration}s" -s "$work/count.lua" -H "Authorization: Bearer $token" \
  "$base/auth/me" >"$work/soak-me.txt" 2>&1 &
wrk_pids+=($!)
BENCH_THREADS=1 wrk --timeout 10s -t1 -c16 -d"${duration}s" -s "$work/send.lua" "$base/auth/send-otp" >"$work/soak-send.txt" 2>&1 &
wrk_pids+=($!)
BENCH_THREADS=1 wrk --timeout 10s -t1 -c8 -d"${duration}s" -s "$work/login.lua" "$base/auth/login" >"$work/soak-login.txt" 2>&1 &
wrk_pids+=($!)
BENCH_THREADS=1 wrk --timeout 10s -t1 -c4 -d"${duration}s" -s "$work/count.lua" "$base/health" >"$work/soak-health.txt" 2>&1 &
wrk_pids+=($!)

every=$((duration / 10 < 30 ? (duration / 10 > 0 ? duration / 10 : 1) : 30))
echo "| elapsed s | RSS MiB | mail files |"
echo "| --- | --- | --- |"
echo "| 0 | $(rss) | $(mail_count) |"
elapsed=0
while [ "$elapsed" -lt "$duration" ]; do
  sleep "$every"
  elapsed=$((elapsed + every))
  echo "| $elapsed | $(rss) | $(mail_count) |"
done
for pid in "${wrk_pids[@]}"; do wait "$pid" || true; done

echo
echo "| flow | requests/s | answers by status | non-2xx |"
echo "| --- | --- | --- | --- |"
for flow in "${flows[@]}"; do
  file="$work/soak-$flow.txt"
  rate=$(sed -n 's/^Requests\/sec: *//p' "$file")
  answers=$(awk '/^status / { printf "%s%s:%s", sep, $2, $3; sep = " " }' "$file")
  errors=$(awk '/^status / && ($2 < 200 || $2 > 299) { printf "%s%s:%s", sep, $2, $3; sep = " " }' "$file")
  sockets=$(sed -n 's/^ *Socket errors: *//p' "$file")
  echo "| $flow | $rate | $answers | ${errors:-none}${sockets:+ (socket errors: $sockets)} |"
done
