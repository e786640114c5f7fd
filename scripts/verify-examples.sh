#!/usr/bin/env bash
# Prepares the other services that crates/server/tests/other_services.rs runs in front of
# a real otp-server: builds otp-verify's axum and actix examples and the embedding examples
# (otp-server's embedded_actix, otp-memory's axum_service), and installs the npm
# `paseto` package of clients/node-verify (pinned by its package-lock.json) with its
# script into target/tools/node-verify, and installs and compiles the TypeScript client
# of clients/typescript in target/tools/typescript-client. nextest runs it as a setup script (see
# .config/nextest.toml) and passes OTP_VERIFY_EXAMPLES, OTP_NODE_VERIFY and
# OTP_TYPESCRIPT_CLIENT on; quick when
# everything is in place already. Needs Node.js 18 or newer with npm.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet -p otp-verify --examples --features actix,axum
cargo build --quiet -p otp-server --example embedded_actix
cargo build --quiet -p otp-memory --example axum_service
target=${CARGO_TARGET_DIR:-$root/target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
examples="$target/debug/examples"
for name in axum actix embedded_actix axum_service; do
  [ -x "$examples/$name" ] || { echo "no $examples/$name after the build" >&2; exit 1; }
done

node_dir="$target/tools/node-verify"
mkdir -p "$node_dir"
if [ ! -d "$node_dir/node_modules/paseto" ] || ! cmp -s clients/node-verify/package-lock.json "$node_dir/package-lock.json"; then
  echo "installing the npm packages of clients/node-verify into $node_dir" >&2
  cp clients/node-verify/package.json clients/node-verify/package-lock.json "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
cp clients/node-verify/verify.mjs "$node_dir/"

# The TypeScript client (clients/typescript), copied, installed and compiled there.
ts_dir="$target/tools/typescript-client"
mkdir -p "$ts_dir"
if [ ! -d "$ts_dir/node_modules/openapi-fetch" ] || ! cmp -s clients/typescript/package-lock.json "$ts_dir/package-lock.json"; then
  echo "installing the npm packages of clients/typescript into $ts_dir" >&2
  cp clients/typescript/package.json clients/typescript/package-lock.json "$ts_dir/"
  (cd "$ts_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
rm -rf "$ts_dir/src" "$ts_dir/test" "$ts_dir/dist"
cp -r clients/typescript/tsconfig.json clients/typescript/src clients/typescript/test "$ts_dir/"
(cd "$ts_dir" && node_modules/.bin/tsc -p . >&2)

if [ -n "${NEXTEST_ENV:-}" ]; then
  echo "OTP_VERIFY_EXAMPLES=$examples" >> "$NEXTEST_ENV"
  echo "OTP_NODE_VERIFY=$node_dir/verify.mjs" >> "$NEXTEST_ENV"
  echo "OTP_TYPESCRIPT_CLIENT=$ts_dir" >> "$NEXTEST_ENV"
fi
echo "otp-verify examples in $examples; node $(node --version) with paseto in $node_dir" >&2
