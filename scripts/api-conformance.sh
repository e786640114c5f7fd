#!/usr/bin/env bash
# API conformance: does the server do exactly what its OpenAPI document says?
#
# Runs Schemathesis (PyPI, pinned in scripts/api-conformance/requirements.txt) with
# every check (`--checks all`) against otp-server on its embedded default (in-memory
# stores, mail written to a folder), and exits non-zero when it reports any failure.
#
#   scripts/api-conformance.sh                    # the CI run
#   scripts/api-conformance.sh --continue-on-failure --max-examples 200
#                                                 # extra arguments go to `schemathesis run`
#
# What it does:
#   1. installs Schemathesis in a venv under target/tools/ (only when the requirements
#      or the Python version changed; a second run needs no network);
#   2. builds the debug `otp-server` unless OTP_SERVER_BIN names a binary (after CI's
#      test run only the otp-server crate recompiles, about 20 s; Argon2 is optimised
#      in the dev profile, so log-ins are fast enough);
#   3. starts it on 127.0.0.1 on a free port, from a temporary folder (so no `.env` is
#      read and mail goes to that folder), with loose rate limits and no resend cooldown
#      so the run tests the API and not the limiter; waits for /health;
#   4. runs `schemathesis run <url>/openapi.json --checks all` with the settings in
#      scripts/api-conformance/schemathesis.toml (deterministic generation: the same
#      cases every run; no example database or cache carried between runs; one
#      worker; the few answers that are right on purpose, each allowed only where it
#      is given), at most API_CONFORMANCE_MAX_EXAMPLES examples per operation
#      (default 30), within API_CONFORMANCE_TIMEOUT seconds (default 900);
#   5. stops the server whatever happens (trap), and prints the end of its log on failure.
#
# Authentication: the Bearer routes (`/auth/me`, `/auth/sessions`, `logout`, and the
# whole `/admin` API) are tested signed in as an administrator. The script makes
# ADMIN_EMAIL an account (register, then the mailed code at verify-otp), after which a
# password log-in answers 200 with an access token for ACCESS_TOKEN_EXPIRE_MINUTES
# (from the client that entered the code: the script sends the User-Agent of the
# requests library, which Schemathesis's token fetch uses);
# Schemathesis fetches its token from /auth/login that way and fetches a new one on a
# 401 (after `logout`, `DELETE sessions/{id}` or `sessions/revoke` ended the session).
# Without a token the admin routes would only ever answer 401 (the admin scope answers
# before routing), so nothing behind it would be tested. With one, the `ignored_auth`
# check still sends each Bearer request without a token and with a wrong one, so the
# documented 401 is exercised too.
#
# Reports (JUnit XML, one test per operation, and NDJSON events) go to
# target/api-conformance/, with the server's log; the last line counts the operations
# (`api-conformance: N passed, N failed, N skipped`). Set API_CONFORMANCE_KEEP=1 to keep
# the temporary folder (mail included).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

here=scripts/api-conformance
venv="$root/target/tools/api-conformance-venv"
out="$root/target/api-conformance"
max_examples="${API_CONFORMANCE_MAX_EXAMPLES:-30}"
run_timeout="${API_CONFORMANCE_TIMEOUT:-900}"
admin_email=conformance-admin@example.com
# Only this run's throwaway server ever sees it.
admin_password="conformance-run-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

say() { printf 'api-conformance: %s\n' "$*" >&2; }

install_schemathesis() {
  local python="${PYTHON:-python3}" stamp
  stamp="$(cat "$here/requirements.txt" - <<<"$("$python" --version 2>&1)" | sha256sum | cut -d' ' -f1)"
  if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
    return
  fi
  say "installing Schemathesis into $venv (PyPI)"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  echo "$stamp" >"$venv/.stamp"
}

install_schemathesis
say "$("$venv/bin/schemathesis" --version)"

if [ -n "${OTP_SERVER_BIN:-}" ]; then
  server_bin="$OTP_SERVER_BIN"
else
  say "building otp-server (debug)"
  cargo build --quiet -p otp-server
  server_bin="$root/target/debug/otp-server"
fi

mkdir -p "$out"
work="$(mktemp -d)"
server=""
runner=""
summary=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local status=$?
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
  fi
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  cp "$work/server.log" "$out/server.log" 2>/dev/null || true
  if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
    say "server log (last 20 lines; all of it in $out/server.log):"
    tail -n 20 "$work/server.log" >&2 || true
  fi
  if [ "${API_CONFORMANCE_KEEP:-0}" = 1 ]; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
  [ -z "$summary" ] || echo "$summary"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

# A clean environment: nothing from the caller's shell (DATABASE_URL, SMTP_SERVER, ...)
# turns the embedded default into something else.
(cd "$work" && exec env -i PATH="$PATH" HOME="$work" RUST_LOG=warn \
  APP_ENV=development LOG_FORMAT=json HOST=127.0.0.1 PORT="$port" MAIL_DIR="$work/mail" METRICS_ADDR=127.0.0.1:0 \
  RATE_LIMIT_PER_IP=1000000 RATE_LIMIT_PER_EMAIL=1000000 OTP_RESEND_COOLDOWN_SECONDS=0 \
  ADMIN_EMAIL="$admin_email" \
  "$server_bin" >"$work/server.log" 2>&1) &
server=$!
say "otp-server (pid $server) on $base"

# Waits for /health, signs the administrator up, and prints the name of one of the
# page's assets (for GET /assets/{name}); everything on loopback.
asset="$("$venv/bin/python" - "$base" "$work/mail" "$admin_email" "$admin_password" "$server" <<'PY'
import json, os, pathlib, re, sys, time, urllib.error, urllib.request

base, mail, email, password, pid = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])

# Schemathesis fetches its token from /auth/login with a plain `requests` call (its
# User-Agent); the server recognises a client without a device token by network and
# User-Agent, so the code step here is made as that same client, and its later log-ins
# need no new code.
from requests.utils import default_user_agent

USER_AGENT = default_user_agent()

def post(path, body):
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)

deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(base + "/health", timeout=2) as response:
            if response.status == 200:
                break
    except (urllib.error.URLError, ConnectionError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("api-conformance: otp-server exited before answering /health")
    if time.monotonic() > deadline:
        sys.exit("api-conformance: otp-server did not answer /health within 60 s")
    time.sleep(0.2)

status, _ = post("/auth/register", {"email": email, "password": password})
assert status == 202, f"register answered {status}"
codes = []
for _ in range(50):
    codes = [re.search(rb"^    ([0-9]{6,10})\s*$", path.read_bytes(), re.M) for path in mail.glob("*registration_code.eml")]
    if codes and codes[0]:
        break
    time.sleep(0.1)
if not codes or not codes[0]:
    sys.exit("api-conformance: no registration code was mailed")
status, body = post("/auth/verify-otp", {"email": email, "code": codes[0].group(1).decode()})
assert status == 200 and body["user"]["email"] == email, f"verify-otp answered {status}"
status, body = post("/auth/login", {"email": email, "password": password})
assert status == 200 and "access_token" in body, f"login answered {status}: {body}"
print(f"api-conformance: {email} is an administrator and logs in with its password", file=sys.stderr)

with urllib.request.urlopen(base + "/", timeout=10) as response:
    asset = re.search(r'/assets/([^"?#]+)', response.read().decode())
if not asset:
    sys.exit("api-conformance: the page names no asset")
print(asset.group(1))
PY
)"

say "schemathesis run $base/openapi.json --checks all (max $max_examples examples per operation)"
# In the background and waited for, so a signal to this script stops it at once
# (through the trap) rather than after Schemathesis is done.
CONFORMANCE_ADMIN_EMAIL="$admin_email" CONFORMANCE_ADMIN_PASSWORD="$admin_password" CONFORMANCE_ASSET="$asset" \
  timeout --kill-after=10 "$run_timeout" \
  "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
  --checks all \
  --max-examples "$max_examples" \
  --report junit,ndjson --report-junit-path "$out/junit.xml" --report-ndjson-path "$out/events.ndjson" \
  --no-color \
  "$@" &
runner=$!
status=0
wait "$runner" || status=$?
runner=""
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  say "schemathesis did not finish within $run_timeout s"
elif [ -f "$out/junit.xml" ]; then
  # The closing line (printed last, by cleanup), in the plain `N passed, N failed`
  # form: one test per operation, and one for the stateful phase.
  summary="$("$venv/bin/python" - "$out/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as tree
cases = tree.parse(sys.argv[1]).getroot().iter("testcase")
outcomes = [next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed") for case in cases]
failed = sum(outcome in ("failure", "error") for outcome in outcomes)
print(f"api-conformance: {outcomes.count('passed')} passed, {failed} failed, {outcomes.count('skipped')} skipped")
PY
)"
fi
exit "$status"
