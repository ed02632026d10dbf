//! Generated gRPC code of `proto/message.proto` (regenerate with `scripts/gen-protos.sh`).
#![allow(missing_docs, clippy::all)]

include!("gen/message.v1.rs");
