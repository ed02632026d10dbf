#!/usr/bin/env bash
# Checks that otel-sqlx with a subset of its backends compiles beside sqlx with another subset
# (and with sqlx's macros/migrate), in a consumer crate outside the workspace
# (tests/feature-matrix), so the features are unified as in a user's build, not the workspace's.
#
#   scripts/feature-matrix.sh            the matrix below (CI)
#   scripts/feature-matrix.sh FEATURES   one combination, e.g. ours-postgres,theirs-sqlite
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="$ROOT/tests/feature-matrix/Cargo.toml"

combos=(
    ours-postgres,theirs-sqlite
    ours-postgres,theirs-mysql
    ours-default,theirs-postgres
    ours-sqlite,theirs-postgres,theirs-mysql,theirs-macros,theirs-migrate
    ours-mysql,ours-sqlite
    ours-default,ours-postgres,ours-mysql,ours-sqlite,theirs-macros
)
if (($#)); then combos=("$@"); fi

for features in "${combos[@]}"; do
    echo "feature-matrix: otel-sqlx/sqlx features: $features" >&2
    cargo check --locked --quiet --manifest-path "$MANIFEST" --no-default-features --features "$features"
done
echo "feature-matrix: ${#combos[@]} combinations compile" >&2
