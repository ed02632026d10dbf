#!/usr/bin/env bash
# Start the loopback test services and run the whole workspace test suite.
#
#   scripts/test.sh [extra cargo test args]     e.g. scripts/test.sh -p tests
#
# Runs `cargo test --workspace --all-features ARGS` (without --workspace when ARGS pick packages).
#
# Exports the service URLs (only those not already set) and a default CARGO_TARGET_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

for d in "$HOME/.cargo/bin" /usr/local/go/bin; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
done
export PATH

scripts/services.sh up
# the OpenTelemetry Python SDK venv of tests/tests/python_propagation.rs (OTEL_PYTHON_VENV)
scripts/python-env.sh >/dev/null

export POSTGRES_URL="${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
export MYSQL_URL="${MYSQL_URL:-mysql://root@127.0.0.1:3306/test}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/}"
export REDIS_CLUSTER_URLS="${REDIS_CLUSTER_URLS:-redis://127.0.0.1:7000,redis://127.0.0.1:7001,redis://127.0.0.1:7002}"
export MONGODB_URI="${MONGODB_URI:-mongodb://127.0.0.1:27017/}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/otel-adapters/target}"

echo "test.sh: POSTGRES_URL=$POSTGRES_URL MYSQL_URL=$MYSQL_URL REDIS_URL=$REDIS_URL REDIS_CLUSTER_URLS=$REDIS_CLUSTER_URLS MONGODB_URI=$MONGODB_URI" >&2
echo "test.sh: CARGO_TARGET_DIR=$CARGO_TARGET_DIR" >&2

# `--workspace` would override a `-p/--package` selection: only add it when none is given.
scope=(--workspace)
for arg in "$@"; do
    case $arg in
    --) break ;;
    -p | -p* | --package | --package=*) scope=() ;;
    esac
done

exec cargo test "${scope[@]}" --all-features "$@"
