#!/usr/bin/env bash
# Instructions per operation of one or more `otel-bench --profile` loops, counted by callgrind on
# the calling thread only (`--toggle-collect=otel_bench::micro::profile`): each profile runs at
# two operation counts, and Ir/op = (total2 - total1) / (ops2 - ops1), so start-up and set-up
# cancel out. Needs valgrind and a release build of the bench:
#   cargo build --release -p otel-bench [--features alternatives]
#   bench/callgrind.sh floor-db sampled redis-sampled ...
# Environment: OPS1 / OPS2 (defaults 1000 / 6000; 300 / 1300 for the sqlite-, http- and grpc-
# profiles), REPEAT (default 1; the sqlite- profiles default to 3): the pair is run REPEAT times
# and the median Ir/op is printed. SQLite runs on sqlx's worker thread, and how often the
# calling thread parks or polls again while it waits varies from run to run by up to ~10k Ir
# under valgrind's default scheduler, so the sqlite- profiles run with --fair-sched=yes (runs
# then agree within ~1.4k; counts are comparable only with other --fair-sched counts),
# BIN (default $CARGO_TARGET_DIR/release/otel-bench).
set -euo pipefail
target=${CARGO_TARGET_DIR:-$(dirname "$0")/../target}
bin=${BIN:-$target/release/otel-bench}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release -p otel-bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind missing: apt-get install -y valgrind" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total() { # profile ops -> total Ir of the toggled frames
    local fair=()
    case "$1" in sqlite-*) fair=(--fair-sched=yes) ;; esac
    valgrind --tool=callgrind "${fair[@]}" --toggle-collect='otel_bench::micro::profile' \
        --callgrind-out-file="$tmp/out" "$bin" --profile "$1" --ops "$2" >/dev/null 2>&1
    awk '/^summary:/ {print $2}' "$tmp/out"
}
for name in "$@"; do
    case "$name" in
        sqlite-* | http-* | grpc-* | floor-http | floor-grpc) o1=${OPS1:-300} o2=${OPS2:-1300} ;;
        *) o1=${OPS1:-1000} o2=${OPS2:-6000} ;;
    esac
    case "$name" in sqlite-*) r=${REPEAT:-3} ;; *) r=${REPEAT:-1} ;; esac
    vals=()
    for _ in $(seq "$r"); do
        a=$(total "$name" "$o1")
        b=$(total "$name" "$o2")
        vals+=("$(echo "($b - $a) / ($o2 - $o1)" | bc -l)")
    done
    median=$(printf '%s\n' "${vals[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
    printf '%-26s %10.0f Ir/op\n' "$name" "$median"
done
