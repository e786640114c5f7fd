#!/usr/bin/env bash
# Load benchmark of otp-server on its embedded default, on loopback only.
# Measures plain request throughput, token verification, and whether Argon2 work
# (password log-ins) slows the HTTP workers: /health latency idle and under a flood
# of log-ins. Installs wrk from Debian if missing. Every run stops by itself.
# Usage: scripts/bench.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
port="${BENCH_PORT:-18090}"
base="http://127.0.0.1:${port}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1
fi
cargo build --release -q -p otp-server

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$work" && PORT="$port" RATE_LIMIT_PER_IP=100000000 RATE_LIMIT_PER_EMAIL=100000000 RUST_LOG=error \
  exec "$OLDPWD/target/release/otp-server" >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 50); do curl -fs "$base/health" >/dev/null && break; sleep 0.2; done

# A signed-in session for the token benchmark.
curl -fs -X POST "$base/auth/send-otp" -H 'content-type: application/json' -d '{"email":"bench@example.com"}' >/dev/null
code=$(grep -hoE '^    [0-9]{6}' "$(ls "$work"/var/mail/*.eml | tail -1)" | tr -d ' ')
token=$(curl -fs -X POST "$base/auth/verify-otp" -H 'content-type: application/json' \
  -d "{\"email\":\"bench@example.com\",\"code\":\"$code\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

cat > "$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"not the password"}'
LUA

echo "## $(date -u +%F) on $(nproc) cores, ${duration}s per run, commit $(git rev-parse --short HEAD)"
echo
echo '### GET /health (idle server)'
wrk -t2 -c32 -d"${duration}s" --latency "$base/health" | sed -n '/Latency/,/Transfer/p'
echo
echo '### GET /auth/me (PASETO verification + session and account look-ups)'
wrk -t2 -c32 -d"${duration}s" --latency -H "Authorization: Bearer $token" "$base/auth/me" | sed -n '/Latency/,/Transfer/p'
echo
echo '### POST /auth/login with a wrong password (one Argon2id verification each)'
wrk -t1 -c16 -d"${duration}s" --latency -s "$work/login.lua" "$base/auth/login" > "$work/login.txt" &
flood=$!
sleep 1
echo
echo '### GET /health while the log-in flood runs (2 connections)'
wrk -t1 -c2 -d"$((duration - 2))s" --latency "$base/health" | sed -n '/Latency/,/Transfer/p'
wait "$flood"
echo
echo '(the log-in flood itself)'
sed -n '/Latency/,/Transfer/p' "$work/login.txt"
