#!/usr/bin/env bash
# A quick measurement of the two write-heavy flows on PostgreSQL + Redis, for trying a
# change without the whole `just bench`: send-otp from a new client address per request
# (through the trusted proxy's X-Forwarded-For, honouring Retry-After) for twice the
# given seconds, then verify-otp with the codes that arrived for the given seconds.
# Prints accepted codes and successful sign-ins per second. With PROFILE=1, also records
# `perf record -F 499 -g -a` for 5 s of the verify-otp phase into target/perf-sign-in.data
# and prints the CPU share of each process.
#
# Usage: scripts/bench-sign-in.sh [seconds, default 8]   (`just bench-sign-in`)
# Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-8}"
connections="${BENCH_CONNECTIONS:-64}"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

start_server postgres
duration=$((seconds * 2))
run_wrk 2 "$connections" "$base/auth/send-otp" "$work/send-many.lua"
echo "send-otp accepted/s: $(awk -v n="$(count_of 202)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }') (answers: $statuses, p99 $p99 ms)"
# Let delivery write the backlog before the codes are read.
last=-1
while [ "$(mail_count)" != "$last" ]; do last=$(mail_count); sleep 1; done
folder_codes "bench-send-" >"$work/codes.txt"
duration=$seconds
if [ -n "${PROFILE:-}" ]; then
  (sleep 1; perf record -F 499 -g -a -o "$root/target/perf-sign-in.data" -- sleep 5 >/dev/null 2>&1) &
  profiler=$!
fi
run_wrk 2 "$connections" "$base/auth/verify-otp" "$work/verify.lua"
echo "verify-otp sign-ins/s: $(awk -v n="$(count_of 200)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }') of $(wc -l <"$work/codes.txt") codes ready (answers: $statuses, p99 $p99 ms)"
echo "RSS after: $(rss) MiB"
if [ -n "${PROFILE:-}" ]; then
  wait "$profiler"
  perf report -i "$root/target/perf-sign-in.data" --no-children -g none --sort comm --stdio 2>/dev/null |
    grep -v '^#' | grep . | head -8
fi
stop_server
