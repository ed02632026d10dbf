//! The kratos `examples/traces` demo in Rust: a `user` HTTP service calling a `message` gRPC
//! service, with SQL, Redis and MongoDB behind them, every hop traced.
#![warn(missing_docs)]

pub mod demo;
pub mod message;
pub mod proto;
pub mod telemetry;
pub mod tracing_service;
pub mod user;
pub mod waterfall;
