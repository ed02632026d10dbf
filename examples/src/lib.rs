//! The kratos `examples/traces` demo in Rust: a `user` HTTP service calling a `message` gRPC
//! service, with SQL, Redis and MongoDB behind them, every hop traced.
#![warn(missing_docs)]

pub mod telemetry;
pub mod waterfall;
