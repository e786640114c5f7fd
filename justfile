# Recipes for everyday work. Install just with `pip install rust-just` (or `cargo install just`).

# List the recipes.
default:
    @just --list

# Run the service on its embedded default (in-memory stores, mail in var/mail).
run:
    cargo run --release -p otp-server

# Run the whole test suite (the command CI runs).
test:
    cargo nextest run --workspace

# Lints and formatting check, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
    cargo test --doc --workspace --quiet

# Package every library crate and build each from its package (as CI does).
packages:
    bash scripts/check-packages.sh

# Format the code.
fmt:
    cargo fmt --all

# Load benchmark on loopback; results go in docs/benchmarks.md.
bench seconds="10":
    scripts/bench.sh {{seconds}}

# send-otp then verify-otp on PostgreSQL + Redis, quickly (PROFILE=1 adds a perf profile).
bench-sign-in seconds="8":
    scripts/bench-sign-in.sh {{seconds}}

# PostgreSQL statements per 1,000 mails during a send-otp burst, by kind (log_statement).
count-statements seconds="3":
    scripts/count-statements.sh {{seconds}}

# Soak on PostgreSQL + Redis (default 10 minutes): RSS over time, answers by status.
soak seconds="600":
    scripts/soak.sh {{seconds}}

# One vs three instances on PgBouncer and a Redis Cluster; results in docs/scaling.md.
bench-scale seconds="10":
    scripts/bench-scale.sh {{seconds}}

# Print a new token signing key and server secret.
keygen:
    cargo run -q -p otp-server -- keygen

# Run the example that embeds otp-core without the server.
example:
    cargo run -q -p otp-memory --example embedded

# Everything CI does, from the repository's own script.
ci:
    bash .ci/run
