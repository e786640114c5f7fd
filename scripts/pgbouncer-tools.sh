#!/usr/bin/env bash
# Installs Debian's pgbouncer for the tests that run the PostgreSQL adapters through it
# (crates/postgres/tests/pgbouncer.rs starts one per test, on a free port, with its own
# configuration). Idempotent, and quick when already installed. nextest runs it as a
# setup script (see .config/nextest.toml). The package's own service is not started.
set -euo pipefail
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "installing Debian's pgbouncer" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # policy-rc.d 101: the package must not start its own pgbouncer on port 6432.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends pgbouncer >&2
fi
binary=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
"$binary" --version | head -1 >&2
