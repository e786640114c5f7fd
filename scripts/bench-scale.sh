#!/usr/bin/env bash
# Scale-out benchmark on loopback: one vs three otp-server instances (release build) on
# the production shape of a large deployment: PostgreSQL through PgBouncer in
# transaction pooling mode, and a Redis Cluster of three masters and three replicas
# (scripts/redis-cluster.sh). Load comes from wrk, one per instance, the connections
# split evenly, all at once; the report sums their rates and gives each phase as a
# ratio to GET /health on the same instances in the same run, with every instance's
# RSS after the phase. Every run stops by itself; everything it starts is stopped and
# removed at exit.
#
# Usage: scripts/bench-scale.sh [seconds per run, default 10]
# Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres); installs wrk and pgbouncer
# from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
duration="${1:-10}"
connections=32

command -v wrk >/dev/null || {
  echo "installing wrk" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1
}
bash scripts/pgbouncer-tools.sh 2>/dev/null
cargo build --release -q -p otp-server
server_bin="$root/target/release/otp-server"

work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash scripts/redis-cluster.sh stop "$work/cluster" >/dev/null 2>&1 || true
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
database="otp_bench_$$"
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

nodes=$(bash scripts/redis-cluster.sh start "$work/cluster" 2>/dev/null)

bouncer_port=$(free_port)
cat >"$work/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
INI
echo '"postgres" ""' >"$work/userlist.txt"
chmod 644 "$work/pgbouncer.ini" "$work/userlist.txt"
bouncer_user=()
[ "$(id -u)" = 0 ] && bouncer_user=(-u postgres)
"$(command -v pgbouncer || echo /usr/sbin/pgbouncer)" "${bouncer_user[@]}" "$work/pgbouncer.ini" >"$work/pgbouncer.log" 2>&1 &
pids+=($!)

keys=$("$server_bin" keygen)
secret=$(sed -n 's/^SECRET_KEY=//p' <<<"$keys")
signing=$(sed -n 's/^TOKEN_SIGNING_KEY=//p' <<<"$keys")
direct="postgres://postgres@127.0.0.1:5432/$database"
DATABASE_URL="$direct" "$server_bin" migrate >/dev/null

# Starts instance $1 on a free port; prints the port.
start_instance() {
  local port dir="$work/instance-$1"
  port=$(free_port)
  mkdir -p "$dir"
  (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" RUST_LOG=error HOST=127.0.0.1 PORT="$port" \
    MAIL_DIR="$work/mail" METRICS_ADDR=off SECRET_KEY="$secret" TOKEN_SIGNING_KEY="$signing" \
    DATABASE_URL="postgres://postgres@127.0.0.1:$bouncer_port/$database" \
    DATABASE_MIGRATION_URL="$direct" DATABASE_STATEMENT_CACHE=false RUN_MIGRATIONS=false \
    REDIS_CLUSTER_NODES="$nodes" REDIS_KEY_PREFIX="otp-bench:" \
    RATE_LIMIT_PER_IP=100000000 RATE_LIMIT_PER_EMAIL=100000000 OTP_RESEND_COOLDOWN_SECONDS=0 \
    "$server_bin" >"$dir/server.log" 2>&1) &
  pids+=($!)
  echo "$port" >"$dir/port"
  echo "$!" >"$dir/pid"
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null && return; sleep 0.1; done
  echo "instance $1 did not become ready:" >&2
  tail -5 "$dir/server.log" >&2
  exit 1
}

cat >"$work/send.lua" <<'LUA'
-- A new address per request, so no cooldown or per-address limit is hit.
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = string.format('{"email":"bench-%d-%d@example.com"}', math.random(1, 1000000000), counter)
  return wrk.format(nil, nil, nil, body)
end
LUA

# Runs wrk against every started instance at once, $connections split evenly; prints the
# summed requests per second. $1: path, $2: extra wrk arguments (optional).
load() {
  local path="$1" extra="${2:-}" count=${#ports[@]} i
  for i in "${!ports[@]}"; do
    # shellcheck disable=SC2086 # extra holds several arguments
    wrk -t1 -c$((connections / count)) -d"${duration}s" $extra "http://127.0.0.1:${ports[$i]}$path" \
      >"$work/wrk-$i.txt" 2>&1 &
  done
  wait_wrk
  for i in "${!ports[@]}"; do sed -n 's/^Requests\/sec: *//p' "$work/wrk-$i.txt"; done |
    awk '{ sum += $1 } END { printf "%.0f\n", sum }'
}
wait_wrk() { while pgrep -x wrk >/dev/null; do sleep 0.2; done; }

rss() {
  local i out=""
  for i in "${!ports[@]}"; do
    out+="$(ps -o rss= -p "$(cat "$work/instance-$i/pid")" | awk '{ printf "%.0f MiB", $1 / 1024 }') "
  done
  echo "$out"
}

echo "## $(date -u +%F) on $(nproc) cores, ${duration}s per run, $connections connections, commit $(git rev-parse --short HEAD)"
echo
echo "PostgreSQL 127.0.0.1:5432 through PgBouncer (transaction mode), Redis Cluster 3+3 on loopback."
echo
echo "| instances | phase | requests/s | ratio to /health | RSS per instance after |"
echo "| --- | --- | --- | --- | --- |"
ports=()
for count in 1 3; do
  while [ ${#ports[@]} -lt "$count" ]; do
    start_instance ${#ports[@]}
    ports+=("$(cat "$work/instance-${#ports[@]}/port")")
  done
  # A signed-in session for /auth/me, through the first instance.
  email="bench-me-$count@example.com"
  curl -fs -X POST "http://127.0.0.1:${ports[0]}/auth/send-otp" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\"}" >/dev/null
  # Every instance delivers from the shared outbox into one folder; the previous phase
  # may have left a backlog of mail to write first.
  mail=""
  for _ in $(seq 600); do
    mail=$(grep -rl "$email" "$work/mail" 2>/dev/null | tail -1) && [ -n "$mail" ] && break
    sleep 0.1
  done
  code=$(grep -hoE '^    [0-9]{6}' "$mail" | tr -d ' ')
  token=$(curl -fs -X POST "http://127.0.0.1:${ports[0]}/auth/verify-otp" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"code\":\"$code\"}" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

  health=$(load /health)
  echo "| $count | GET /health | $health | 1.00 | $(rss) |"
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/me.lua"
  me=$(load /auth/me "-s $work/me.lua")
  echo "| $count | GET /auth/me | $me | $(awk -v a="$me" -v b="$health" 'BEGIN { printf "%.2f", a / b }') | $(rss) |"
  send=$(load /auth/send-otp "-s $work/send.lua")
  echo "| $count | POST /auth/send-otp (new address each) | $send | $(awk -v a="$send" -v b="$health" 'BEGIN { printf "%.2f", a / b }') | $(rss) |"
done
