#!/usr/bin/env bash
# Instructions per operation of one or more `otel-bench --profile` loops, counted by callgrind:
# each profile runs at two operation counts, and Ir/op = (total2 - total1) / (ops2 - ops1), so
# start-up and set-up cancel out. Needs valgrind and a release build of the bench:
#   cargo build --release -p otel-bench [--features alternatives]
#   bench/callgrind.sh floor-db sampled redis-sampled ...
#   bench/callgrind.sh --all-threads sampled       # count every thread, not the loop's frames
# What is counted: by default the calling thread's frames under the profile loop only
# (`--toggle-collect=otel_bench::micro::profile`); with --all-threads, and always for the
# `mongo-real-*` profiles (real operations against MONGODB_URI, whose driver tasks, pool
# worker and batch span processor threads do part of the work), every instruction of every
# thread of the process.
# Environment: OPS1 / OPS2 (defaults 1000 / 6000; 300 / 1300 for the sqlite-, http- and grpc-
# profiles; 200 / 1200 for mongo-real-), REPEAT (default 1; the sqlite- profiles default to 3):
# the pair is run REPEAT times and the median Ir/op is printed. SQLite runs on sqlx's worker
# thread, and how often the calling thread parks or polls again while it waits varies from
# run to run by up to ~10k Ir under valgrind's default scheduler, so the sqlite- profiles run
# with --fair-sched=yes (runs then agree within ~1.4k; counts are comparable only with other
# --fair-sched counts), BIN (default $CARGO_TARGET_DIR/release/otel-bench), KEEP (a directory:
# keep each run's callgrind output there as NAME.OPS.out, for callgrind_annotate), MALLOCS=1
# (also print the calls to malloc and realloc per operation, from the same two outputs).
set -euo pipefail
all_threads=0
if [ "${1:-}" = --all-threads ]; then
    all_threads=1
    shift
fi
target=${CARGO_TARGET_DIR:-$(dirname "$0")/../target}
bin=${BIN:-$target/release/otel-bench}
[ -x "$bin" ] || { echo "no $bin: run cargo build --release -p otel-bench" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind missing: apt-get install -y valgrind" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total() { # profile ops -> total Ir of the counted frames
    local opts=()
    case "$1" in sqlite-*) opts+=(--fair-sched=yes) ;; esac
    case "$all_threads:$1" in
        1:* | *:mongo-real-*) ;;
        *) opts+=(--toggle-collect='otel_bench::micro::profile') ;;
    esac
    local out="$tmp/$1.$2.out"
    [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && out="$KEEP/$1.$2.out"
    valgrind --tool=callgrind "${opts[@]}" --callgrind-out-file="$out" \
        "$bin" --profile "$1" --ops "$2" >/dev/null 2>&1
    awk '/^summary:/ {print $2}' "$out"
}
allocs() { # callgrind output -> calls to malloc + realloc recorded in it
    awk '
        /^c?fn=\(/ {
            id = $1; sub(/^c?fn=/, "", id); name = $0; sub(/^[^ ]* ?/, "", name)
            if (name != "") names[id] = name
            if ($0 ~ /^cfn=/) callee = names[id]; else callee = ""
            next
        }
        /^calls=/ && (callee == "malloc" || callee == "realloc") {
            n = $1; sub(/^calls=/, "", n); total += n; callee = ""; next
        }
        /^calls=/ { callee = "" }
        END { print total + 0 }' "$1"
}
for name in "$@"; do
    case "$name" in
        sqlite-* | http-* | grpc-* | floor-http | floor-grpc) o1=${OPS1:-300} o2=${OPS2:-1300} ;;
        mongo-real-*) o1=${OPS1:-200} o2=${OPS2:-1200} ;;
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
    if [ "${MALLOCS:-0}" = 1 ]; then
        dir=${KEEP:-$tmp}
        m1=$(allocs "$dir/$name.$o1.out")
        m2=$(allocs "$dir/$name.$o2.out")
        printf '%-26s %10.0f Ir/op %6.2f allocs/op\n' "$name" "$median" \
            "$(echo "($m2 - $m1) / ($o2 - $o1)" | bc -l)"
    else
        printf '%-26s %10.0f Ir/op\n' "$name" "$median"
    fi
done
