#!/usr/bin/env bash
# Builds otp-server without its default features (no PostgreSQL, Redis, SMTP, OAuth or
# Swagger UI) and checks that a setting needing a missing feature stops start-up with a
# message naming the feature, while the in-memory default still starts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet -p otp-server --no-default-features
binary="${CARGO_TARGET_DIR:-$root/target}/debug/otp-server"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
check_refused() { # KEY=VALUE feature
  local output
  if output=$(env -i PATH="$PATH" PORT=0 "$1" timeout 20 "$binary" 2>&1); then
    echo "started with $1 although the \`$2\` feature is missing" >&2; exit 1
  fi
  grep -q "built without the \`$2\` feature" <<<"$output" || { echo "unclear refusal for $1: $output" >&2; exit 1; }
  echo "refused as it should: ${1%%=*} without \`$2\`"
}
check_refused DATABASE_URL=postgres://127.0.0.1/otp postgres
check_refused REDIS_URL=redis://127.0.0.1:6379 redis
check_refused REDIS_CLUSTER_NODES=127.0.0.1:7000 redis
check_refused SMTP_SERVER=mail.example.com smtp
check_refused GITHUB_CLIENT_ID=Iv1.abc oauth
if output=$(env -i PATH="$PATH" "$binary" import mongoexport /dev/null 2>&1) \
  || ! grep -q "without the \`postgres\` feature" <<<"$output"; then
  echo "import without the postgres feature did not refuse clearly: $output" >&2; exit 1
fi
echo "refused as it should: import without \`postgres\`"
if env -i PATH="$PATH" DATABASE_URL=postgres://127.0.0.1/otp "$binary" migrate >/dev/null 2>&1; then
  echo "migrate ran without the postgres feature" >&2; exit 1
fi
# The in-memory default starts and answers.
env -i PATH="$PATH" PORT=0 LOG_FORMAT=json "$binary" >"$work/log" 2>&1 &
pid=$!
address=""
for _ in $(seq 100); do
  address=$(grep -o '"address":"[^"]*"' "$work/log" | head -1 | cut -d'"' -f4 || true)
  [ -n "$address" ] && break
  sleep 0.1
done
[ -n "$address" ] || { kill "$pid"; cat "$work/log" >&2; echo "the lean build did not start" >&2; exit 1; }
curl -fsS "$address/health" >/dev/null
status=$(curl -s -o /dev/null -w '%{http_code}' "$address/docs/")
kill "$pid"; wait "$pid" || true
[ "$status" = 404 ] || { echo "/docs/ answered $status without swagger-ui" >&2; exit 1; }
echo "the lean build serves $address/health; /docs/ is 404 without swagger-ui"
