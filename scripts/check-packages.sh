#!/usr/bin/env bash
# Packages every library crate as it would be published, then builds each one from its
# package alone: `cargo package` extracts each .crate and compiles it, so a file the
# package leaves out (migrations, templates, fixtures, licences) or a path outside the
# crate fails here, not on crates.io. The crates are packaged together: their
# dependencies on one another resolve to the packages just made (a local registry
# overlay), not to crates.io, where they are not yet published.
set -euo pipefail
cd "$(dirname "$0")/.."

crates=(otp-core otp-verify otp-mail otp-memory otp-postgres otp-redis otp-smtp otp-oauth otp-webhooks)

# What each package holds: both licence texts and the README it documents itself with.
for crate in "${crates[@]}"; do
  files=$(cargo package --quiet --allow-dirty --list -p "$crate")
  for required in LICENSE-MIT LICENSE-APACHE README.md; do
    if ! grep -qx "$required" <<<"$files"; then
      echo "check-packages: $crate does not package $required" >&2
      exit 1
    fi
  done
  if [ "$crate" = otp-postgres ] && ! grep -q '^migrations/.*/up\.sql$' <<<"$files"; then
    echo "check-packages: otp-postgres does not package its migrations" >&2
    exit 1
  fi
done

# Package and build each from its package, with every feature (so the test helpers
# behind `testing` and the web-framework integrations build from the package too).
# `--allow-dirty` lets a developer check a change before committing it; CI runs on a
# clean clone anyway.
args=()
for crate in "${crates[@]}"; do args+=(-p "$crate"); done
# Cargo never expects a registry version to change, so it would build against an
# earlier run's `otp-core 0.1.0` instead of the one just packaged: both its sources
# extracted from the local registry (under CARGO_HOME's registry/src/-<hash>/, the
# directories of local registries) and its build. Both go first; dependencies stay built.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for crate in "${crates[@]}"; do
  rm -rf "$cargo_home"/registry/src/-*/"$crate"-[0-9]*
done
cargo clean --quiet "${args[@]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo package --allow-dirty --all-features "${args[@]}" 2>&1 | tee "$log"
# Missing metadata (description, licence, documentation, …) is only a warning to cargo.
if grep -E '^warning: .*(manifest has no|no (description|license|documentation))' "$log"; then
  echo "check-packages: a package lacks metadata crates.io shows" >&2
  exit 1
fi
echo "check-packages: ${#crates[@]} crates packaged and built from their packages"
