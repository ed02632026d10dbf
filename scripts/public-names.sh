#!/usr/bin/env bash
# Counts the public names of library crates: every item rustdoc gives a page of its own
# (struct, enum, trait, fn, constant, type, macro, and each public module), at the crate root
# and in its public modules, re-exports included, with every feature on. Methods, fields and
# variants are not counted (they belong to their type).
#
#   scripts/public-names.sh otel-sqlx otel-redis      (default: the four library crates)
#   FEATURES=http,grpc,axum,reqwest,tracing scripts/public-names.sh otel-rpc
#       (one crate, with exactly these features instead of all: e.g. everything but `testing`)
#
# Prints one line per crate and module: the count and the names.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
crates=("$@")
[ ${#crates[@]} -gt 0 ] || crates=(otel-rpc otel-sqlx otel-mongo otel-redis)
target="${CARGO_TARGET_DIR:-target}"
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
if [ -n "${FEATURES+x}" ]; then
    [ ${#crates[@]} -eq 1 ] || { echo "FEATURES needs exactly one crate" >&2; exit 2; }
    rm -rf "$target/doc/${crates[0]//-/_}"
    cargo doc --quiet --no-deps --no-default-features --features "$FEATURES" "${args[@]}"
else
    cargo doc --quiet --no-deps --all-features "${args[@]}"
fi
for c in "${crates[@]}"; do
    dir="$target/doc/${c//-/_}"
    # Redirect pages (an item's private defining path) are not names.
    names=$(cd "$dir" && grep -L 'Redirecting to' -r --include='*.html' . \
        | sed 's|^\./||' | grep -v -e '^all\.html$' -e '^index\.html$' \
        | sed -e 's|/index\.html$|/ (module)|' -e 's|\([a-z]*\)\.\([A-Za-z0-9_]*\)\.html$|\2|' | sort)
    echo "$c: $(printf '%s\n' "$names" | grep -c .) public names"
    printf '%s\n' "$names" | awk -F/ '{m=(NF>1?$1:"(root)"); a[m]=a[m]" "$NF; n[m]++} END {for (m in a) printf "  %-12s %3d:%s\n", m, n[m], a[m]}' | sort
done
