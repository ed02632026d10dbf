#!/usr/bin/env bash
# Regenerates the checked-in Rust code of the workspace's .proto files, so that building the
# crates never needs `protoc` (only this script does: `apt-get install protobuf-compiler`).
#
#   scripts/gen-protos.sh
#
# examples/proto/message.proto   -> examples/src/gen/message.v1.rs
# otel-rpc/tests/proto/echo.proto -> otel-rpc/tests/gen/echo.rs
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
command -v protoc >/dev/null || { echo "gen-protos.sh: protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
version=$(sed -n 's/^tonic-prost-build = "\(.*\)"/\1/p' "$root/Cargo.toml")
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "gen-protos"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[build-dependencies]
tonic-prost-build = "$version"
TOML
echo 'fn main() {}' > "$work/src/main.rs"
cat > "$work/build.rs" <<RS
fn gen(proto: &str, include: &str, out: &str) {
    std::fs::create_dir_all(out).unwrap();
    tonic_prost_build::configure()
        .out_dir(out)
        .compile_protos(&[proto], &[include])
        .unwrap();
}
fn main() {
    gen("$root/examples/proto/message.proto", "$root/examples/proto", "$root/examples/src/gen");
    gen("$root/otel-rpc/tests/proto/echo.proto", "$root/otel-rpc/tests/proto", "$root/otel-rpc/tests/gen");
}
RS
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/otel-adapters/target}" cargo build --quiet --manifest-path "$work/Cargo.toml"
echo "gen-protos.sh: regenerated examples/src/gen and otel-rpc/tests/gen"
