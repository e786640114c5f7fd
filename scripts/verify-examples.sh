#!/usr/bin/env bash
# Builds otp-verify's axum and actix examples, which crates/server/tests/other_services.rs
# starts as processes in front of a real otp-server. nextest runs it as a setup script
# (see .config/nextest.toml) and passes the folder on as OTP_VERIFY_EXAMPLES; quick when
# they are built already.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet -p otp-verify --examples --features actix,axum
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
examples="$target/debug/examples"
for name in axum actix; do
  [ -x "$examples/$name" ] || { echo "no $examples/$name after the build" >&2; exit 1; }
done
if [ -n "${NEXTEST_ENV:-}" ]; then
  echo "OTP_VERIFY_EXAMPLES=$examples" >> "$NEXTEST_ENV"
fi
echo "otp-verify examples in $examples" >&2
