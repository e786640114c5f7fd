#!/usr/bin/env bash
# Installs the SMTP server the tests run against: Python's aiosmtpd, from PyPI, in a venv
# under target/tools, with Python's bcrypt (the import tests make passlib-style hashes with it)
# standardwebhooks (the webhook tests verify a delivered request with it) and dkimpy
# (scripts/dkim-verify.py checks our DKIM signatures with it). Idempotent, and quick when already installed. nextest runs it as a
# setup script (see .config/nextest.toml), so `cargo nextest run` needs nothing else.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/target/tools/smtp-venv"
if ! "$venv/bin/python" -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing aiosmtpd into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd>=1.4.6,<2'
fi
if ! "$venv/bin/python" -c 'import bcrypt' >/dev/null 2>&1; then
  echo "installing bcrypt into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'bcrypt>=4,<6'
fi
if ! "$venv/bin/python" -c 'import standardwebhooks' >/dev/null 2>&1; then
  echo "installing standardwebhooks into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'standardwebhooks>=1.1,<2'
fi
if ! "$venv/bin/python" -c 'import dkim' >/dev/null 2>&1; then
  echo "installing dkimpy into $venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'dkimpy>=1.1,<2'
fi
if [ -n "${NEXTEST_ENV:-}" ]; then
  echo "OTP_TEST_SMTP_PYTHON=$venv/bin/python" >> "$NEXTEST_ENV"
fi
echo "aiosmtpd: $("$venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)')" >&2
