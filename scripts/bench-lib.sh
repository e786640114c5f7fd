# Shared by scripts/bench.sh and scripts/soak.sh (sourced, not run): builds the release
# server, starts and stops instances on the embedded default or on PostgreSQL + Redis
# (a fresh database and key prefix each, dropped at exit), and writes the wrk scripts.
# Needs PostgreSQL on 127.0.0.1:5432 (trust, user postgres) and Redis on 127.0.0.1:6379
# for the PostgreSQL + Redis runs; installs wrk from Debian when missing.

root=$PWD
command -v wrk >/dev/null || {
  echo "installing wrk" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1
}
# BENCH_SERVER runs another otp-server binary (a debug build for a quick smoke run).
if [ -n "${BENCH_SERVER:-}" ]; then
  server_bin=$(realpath "$BENCH_SERVER")
else
  cargo build --release -q -p otp-server
  server_bin="$root/target/release/otp-server"
fi

# The work folder, mail folders included, goes on tmpfs when there is one: creating a
# file on this VM's ext4 costs 250-760 us of kernel CPU, varying from run to run
# (docs/benchmarks.md, 2026-12-05 late), and the folder mailer creates one per mail, where
# SMTP would not. BENCH_TMPDIR chooses the place (BENCH_TMPDIR=/tmp: the disk).
tmp_dir=${BENCH_TMPDIR:-}
if [ -z "$tmp_dir" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then tmp_dir=/dev/shm; fi
work=$(mktemp -d ${tmp_dir:+-p "$tmp_dir"})
chmod 755 "$work"
server_pids=()
wrk_pids=()
databases=()
prefixes=()
bench_cleanup() {
  local pid database prefix
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for pid in "${wrk_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for database in "${databases[@]}"; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  done
  for prefix in "${prefixes[@]}"; do
    redis-cli --scan --pattern "$prefix*" | xargs -r -n 500 redis-cli del >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap bench_cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts a server named $1 ("embedded" or "postgres"); sets $base, $server_pid and
# $mail_dir. "postgres" gets a fresh database and Redis key prefix of its own.
start_server() {
  local name="$1" port dir="$work/$1" backend=()
  port=$(free_port)
  mkdir -p "$dir"
  if [ "$name" = postgres ]; then
    local database="otp_bench_$$_${#databases[@]}" prefix="otp-bench-$$-${#prefixes[@]}:"
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $database" >/dev/null
    databases+=("$database")
    prefixes+=("$prefix")
    backend=(DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" REDIS_URL="redis://127.0.0.1:6379"
      REDIS_KEY_PREFIX="$prefix")
    env "${backend[@]}" "$server_bin" migrate >/dev/null
  fi
  mail_dir="$dir/mail"
  (cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" RUST_LOG=error HOST=127.0.0.1 PORT="$port" \
    MAIL_DIR="$mail_dir" METRICS_ADDR=off "${backend[@]}" \
    TRUSTED_PROXIES=127.0.0.1 RATE_LIMIT_PER_IP=100000000 RATE_LIMIT_PER_EMAIL=100000000 OTP_RESEND_COOLDOWN_SECONDS=0 \
    ${BENCH_ENV:-} "$server_bin" >"$dir/server.log" 2>&1) &
  server_pid=$!
  server_pids+=("$server_pid")
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "$base/ready" >/dev/null && return; sleep 0.1; done
  echo "server $name did not become ready:" >&2
  tail -5 "$dir/server.log" >&2
  exit 1
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# The server's resident memory in MiB, from /proc.
rss() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status"; }

# Messages in the mail folder.
mail_count() { find "$mail_dir" -maxdepth 1 -name '*.eml' 2>/dev/null | wc -l; }

# "address code" for every code mail in the folder whose address starts with $1.
folder_codes() {
  find "$mail_dir" -maxdepth 1 -name '*.eml' -exec awk -v want="$1" '
    FNR == 1 { to = "" }
    { sub(/\r$/, "") }
    /^To: / { to = $2; gsub(/[<>]/, "", to) }
    /^    [0-9]{6}$/ { if (index(to, want) == 1) print to, $1; nextfile }
  ' {} +
}

# Waits until a mail to $1 is in the folder (at most 60 s); prints its code.
code_for() {
  local file=""
  for _ in $(seq 600); do
    file=$(grep -lE "^To: <?$1>?" "$mail_dir"/*.eml 2>/dev/null | tail -1) && [ -n "$file" ] && break
    sleep 0.1
  done
  grep -hoE '^    [0-9]{6}' "$file" | tr -d ' '
}

post() { curl -fs -A otp-bench -X POST "$base$1" -H 'content-type: application/json' -d "$2"; }

# Signs $1 in by code (registering with password $2 first when given); prints the
# access token. The user agent matches wrk's, so a password log-in from wrk is on a
# device that passed a code check.
sign_in() {
  if [ -n "${2:-}" ]; then
    post /auth/register "{\"email\":\"$1\",\"password\":\"$2\"}" >/dev/null
  else
    post /auth/send-otp "{\"email\":\"$1\"}" >/dev/null
  fi
  post /auth/verify-otp "{\"email\":\"$1\",\"code\":\"$(code_for "$1")\"}" |
    sed -E 's/.*"access_token":"([^"]+)".*/\1/'
}

# wrk Lua: counts answers by status across threads; done() prints "status N COUNT".
cat >"$work/count.lua" <<'LUA'
local threads = {}
local counter = 0
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  statuses = {}
  math.randomseed(os.time() * 1000 + id)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  for status, count in pairs(total) do io.write(string.format("status %d %d\n", status, count)) end
  io.write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "otp-bench"
LUA

# A client that honours Retry-After: after a 429 or 503, the connection waits the
# seconds the answer asked for before its next request (wrk's delay() hook runs for the
# connection that has just been answered; 1 s when the header is missing).
cat >"$work/polite.lua" <<'LUA'
local count_response = response
local wait_ms = 0
function response(status, headers, body)
  count_response(status, headers, body)
  if status == 429 or status == 503 then
    local seconds = tonumber(headers["retry-after"] or headers["Retry-After"] or "1") or 1
    wait_ms = math.max(seconds, 1) * 1000
  end
end
function delay()
  local ms = wait_ms
  wait_ms = 0
  return ms
end
LUA

# send-otp with a new address per request (prefix "bench-send-").
{ cat "$work/count.lua"; cat <<'LUA'; } >"$work/send.lua"
wrk.method = "POST"
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil,
    string.format('{"email":"bench-send-%d-%d-%d@example.com"}', id, math.random(1, 1000000000), counter))
end
LUA

# send-otp with a new address per request, each from its own client address (through
# the trusted proxy's X-Forwarded-For: 10.<thread>.x.y), honouring Retry-After.
{ cat "$work/count.lua" "$work/polite.lua"; cat <<'LUA'; } >"$work/send-many.lua"
wrk.method = "POST"
request = function()
  counter = counter + 1
  local client = string.format("10.%d.%d.%d", id, math.floor(counter / 256) % 256, counter % 256)
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = client,
    ["Content-Type"] = "application/json", ["User-Agent"] = "otp-bench" },
    string.format('{"email":"bench-send-%d-%d-%d@example.com"}', id, math.random(1, 1000000000), counter))
end
LUA

# verify-otp walking codes.txt ("address code" lines), each thread its share; a thread
# past its share sends a wrong code (answered 400, not counted as a sign-in).
{ cat "$work/count.lua"; cat <<LUA; } >"$work/verify.lua"
wrk.method = "POST"
local mine = {}
local threads_total = tonumber(os.getenv("BENCH_THREADS") or "2")
local loaded = false
request = function()
  if not loaded then
    loaded = true
    local index = 0
    for line in io.lines("$work/codes.txt") do
      if index % threads_total == id - 1 then table.insert(mine, line) end
      index = index + 1
    end
  end
  counter = counter + 1
  local line = mine[counter] or "nobody@example.com 000000"
  local email, code = line:match("(%S+) (%S+)")
  return wrk.format(nil, nil, nil, string.format('{"email":"%s","code":"%s"}', email, code))
end
LUA

# Runs wrk for $duration with $1 threads and $2 connections on $3 (URL) with Lua $4 and
# extra headers; sets $rate (requests/s), $p99 (ms) and $statuses ("200:n 503:m").
run_wrk() {
  local threads="$1" connections="$2" url="$3" lua="$4"
  shift 4
  BENCH_THREADS="$threads" wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 10s -s "$lua" "$@" "$url" >"$work/wrk.txt" 2>&1
  rate=$(sed -n 's/^Requests\/sec: *//p' "$work/wrk.txt")
  p99=$(sed -n 's/^p99_ms //p' "$work/wrk.txt")
  statuses=$(awk '/^status / { printf "%s%s:%s", sep, $2, $3; sep = " " }' "$work/wrk.txt")
}

# How many answers of status $1 the last run_wrk counted.
count_of() { awk -v want="$1" '/^status / && $2 == want { print $3 }' "$work/wrk.txt" | grep . || echo 0; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
