#!/usr/bin/env bash
# Load benchmark of otp-server on loopback, in one run on BOTH the embedded default and
# PostgreSQL + Redis (a fresh database and key prefix, dropped at exit), each phase as
# a ratio to GET /health of the same server in the same run, and password log-ins as a
# ratio to Argon2's own hash rate on this machine (the argon2_rate example of otp-core,
# the server's default parameters on every core), measured right before and right after
# each backend's log-in phases, so that the machine's drift over the run does not
# enter the ratio. After every phase: the server's RSS
# (from /proc). Also /health latency while a log-in flood runs (Argon2 must not slow
# the HTTP workers). Every run stops by itself.
#
# Phases per backend: /health; /auth/me; send-otp with a new address per request
# (accepted/s, 503s counted) and mail delivered per second (folder files over time);
# send-otp again from a new client address per request (through the trusted proxy's
# X-Forwarded-For) honouring Retry-After; verify-otp with fresh right codes read from
# the mail folder (successful sign-ins/s); log-in with the right password (successful
# log-ins/s), from clients that never back off and again from clients honouring
# Retry-After.
#
# Usage: scripts/bench.sh [seconds per run, default 10]   (`just bench`)
# Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and Redis on 127.0.0.1:6379.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${BENCH_CONNECTIONS:-64}"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

cargo build --release -q -p otp-core --example argon2_rate
# Argon2id's own rate now, in hashes per second (server parameters, every core).
argon2_rate() {
  "$root/target/release/examples/argon2_rate" "$duration" | sed -n 's/^argon2_hashes_per_second=\([0-9.]*\).*/\1/p'
}
password="correct horse battery staple"

echo "## $(date -u +%F) on $(nproc) cores, ${duration}s per run, wrk -t2 -c$connections, commit $(git rev-parse --short HEAD)"
echo
echo "Argon2id's own rate (server parameters, all cores) is measured right before and right after each"
echo "backend's log-in phases, with the server idle; log-ins are a ratio to the mean of the two."
echo
echo "| backend | phase | rate /s | ratio | p99 ms | answers | RSS after (MiB) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row() { echo "| $backend | $1 | $2 | $3 | ${p99:--} | ${statuses:--} | $(rss) |"; }

for backend in embedded postgres; do
  start_server "$backend"
  p99="" statuses=""
  row "start" - -
  token=$(sign_in "bench-me@example.com")
  sign_in "bench-login@example.com" "$password" >/dev/null

  run_wrk 2 "$connections" "$base/health" "$work/count.lua"
  health=$rate
  row "GET /health" "$health" "1.00 of /health"

  run_wrk 2 "$connections" "$base/auth/me" "$work/count.lua" -H "Authorization: Bearer $token"
  row "GET /auth/me" "$rate" "$(ratio "$rate" "$health") of /health"

  before=$(mail_count)
  started=$(date +%s.%N)
  run_wrk 2 "$connections" "$base/auth/send-otp" "$work/send.lua"
  accepted=$(awk -v n="$(count_of 202)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }')
  row "POST /auth/send-otp, one client: accepted (503s: $(count_of 503))" "$accepted" "$(ratio "$accepted" "$health") of /health"
  total_accepted=$(count_of 202)

  run_wrk 2 "$connections" "$base/auth/send-otp" "$work/send-many.lua"
  accepted=$(awk -v n="$(count_of 202)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }')
  row "POST /auth/send-otp, a client per request honouring Retry-After: accepted (503s: $(count_of 503))" \
    "$accepted" "$(ratio "$accepted" "$health") of /health"
  total_accepted=$((total_accepted + $(count_of 202)))
  # Mail delivered per second: the folder's files from the start of the first send-otp
  # phase until the backlog of both is written (or 60 s more pass).
  last=$(mail_count)
  last_at=$(date +%s.%N)
  for _ in $(seq 120); do
    sleep 0.5
    now=$(mail_count)
    [ "$now" = "$last" ] && break
    last=$now
    last_at=$(date +%s.%N)
  done
  delivered=$(awk -v n="$((last - before))" -v a="$started" -v b="$last_at" 'BEGIN { printf "%.0f", n / (b - a) }')
  p99="" statuses="$((last - before)) of $total_accepted accepted"
  row "mail delivered (folder), both send-otp phases until written" "$delivered" \
    "$(ratio "$((last - before))" "$total_accepted") of accepted written"

  folder_codes "bench-send-" >"$work/codes.txt"
  run_wrk 2 "$connections" "$base/auth/verify-otp" "$work/verify.lua"
  signed=$(awk -v n="$(count_of 200)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }')
  row "POST /auth/verify-otp sign-ins ($(wc -l <"$work/codes.txt") codes ready)" "$signed" "$(ratio "$signed" "$health") of /health"

  argon2_before=$(argon2_rate)
  printf 'wrk.method = "POST"\nwrk.body = %s\n' \
    "'{\"email\":\"bench-login@example.com\",\"password\":\"$password\"}'" >"$work/login-body.lua"
  cat "$work/count.lua" "$work/login-body.lua" >"$work/login.lua"
  run_wrk 2 "$connections" "$base/auth/login" "$work/login.lua"
  logins_rude=$(awk -v n="$(count_of 200)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }')
  p99_rude=$p99 statuses_rude=$statuses rss_rude=$(rss) rude_503s=$(count_of 503)

  cat "$work/count.lua" "$work/polite.lua" "$work/login-body.lua" >"$work/login-polite.lua"
  run_wrk 2 "$connections" "$base/auth/login" "$work/login-polite.lua"
  logins=$(awk -v n="$(count_of 200)" -v d="$duration" 'BEGIN { printf "%.0f", n / d }')
  p99_polite=$p99 statuses_polite=$statuses polite_503s=$(count_of 503)
  argon2_after=$(argon2_rate)
  argon2=$(awk -v a="$argon2_before" -v b="$argon2_after" 'BEGIN { printf "%.1f", (a + b) / 2 }')
  p99="" statuses=""
  row "Argon2id's own rate, before / after the log-in phases" "$argon2_before / $argon2_after" "mean $argon2"
  p99=$p99_rude statuses=$statuses_rude
  echo "| $backend | POST /auth/login right password (503s: $rude_503s) | $logins_rude |" \
    "$(ratio "$logins_rude" "$argon2") of Argon2 | $p99 | $statuses | $rss_rude |"
  p99=$p99_polite statuses=$statuses_polite
  row "POST /auth/login right password, clients honouring Retry-After (503s: $polite_503s)" "$logins" \
    "$(ratio "$logins" "$argon2") of Argon2"

  # /health on two connections while the log-in flood runs.
  BENCH_THREADS=1 wrk --timeout 10s -t1 -c16 -d"${duration}s" -s "$work/login.lua" "$base/auth/login" >/dev/null 2>&1 &
  flood=$!
  wrk_pids+=("$flood")
  sleep 1
  run_wrk 1 2 "$base/health" "$work/count.lua"
  wait "$flood" || true
  row "GET /health during a log-in flood" "$rate" "$(ratio "$rate" "$health") of /health"
  stop_server
done
