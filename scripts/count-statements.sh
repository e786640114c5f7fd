#!/usr/bin/env bash
# Counts PostgreSQL's statements per mail during a send-otp burst, by kind: a repeatable
# measure of a change to round trips, where throughput on a shared machine moves by
# 10-30 % between two runs of one binary. Starts a server on PostgreSQL + Redis (fresh
# database and key prefix, dropped at exit), turns on `log_statement = 'all'` for the
# whole cluster (turned off again at exit, also on failure), runs send-otp from a new
# client address per request for the given seconds, waits until the mail is written,
# and prints the logged statements of that database grouped by their first words, per
# 1,000 mails.
#
# Usage: scripts/count-statements.sh [seconds, default 3]   (`just count-statements`)
# PG_LOG names PostgreSQL's log file (default: the newest
# /var/log/postgresql/postgresql-*-main.log, Debian's). Needs PostgreSQL on
# 127.0.0.1:5432 (trust, user postgres, superuser) and Redis on 127.0.0.1:6379.
# Logging every statement slows PostgreSQL down: compare counts, not the rate.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-3}"
connections="${BENCH_CONNECTIONS:-64}"
log="${PG_LOG:-$(ls -t /var/log/postgresql/postgresql-*-main.log 2>/dev/null | head -1)}"
if [ ! -r "$log" ]; then
  echo "PostgreSQL's log file is not readable (set PG_LOG): '$log'" >&2
  exit 1
fi
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

set_logging() {
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM $1" -c "SELECT pg_reload_conf()" >/dev/null
}
count_cleanup() {
  set_logging "RESET log_statement" || true
  bench_cleanup
}
trap count_cleanup EXIT

start_server postgres
database="${databases[0]}"
# One sign-in code first, so the first round's statements are prepared before counting.
post /auth/send-otp '{"email":"warm-up@example.com"}' >/dev/null
set_logging "SET log_statement = 'all'"
sleep 1
from=$(($(wc -l <"$log") + 1))
before=$(mail_count)
run_wrk 2 "$connections" "$base/auth/send-otp" "$work/send-many.lua"
last=-1
while [ "$(mail_count)" != "$last" ]; do
  last=$(mail_count)
  sleep 1
done
set_logging "RESET log_statement"
mails=$((last - before))
echo "send-otp for ${duration}s: $(count_of 202) accepted, $mails mails written"
echo "PostgreSQL statements of database $database per 1,000 mails, by their first words:"
tail -n +"$from" "$log" | grep -F "@$database " | grep -E "LOG:  (statement|execute [^:]*):" |
  sed -E 's/.*LOG:  (statement|execute [^:]*): *//' | awk '{ print $1, $2, $3 }' | sort | uniq -c |
  awk -v mails="$mails" '{ count = $1; $1 = ""; printf "%8.1f %s\n", count * 1000 / mails, $0 }' |
  sort -rn
