//! All integration tests of this crate in one binary (one link instead of one per file).
//! Tests that need a process of their own (a counting global allocator, a process-wide
//! counter, RSS or latency measurements, global providers) stay separate files beside `it/`.

mod cancellation;
mod clients;
mod common;
mod concurrency;
mod conventions;
mod details;
mod errors;
mod hostile;
mod lifecycle;
mod operation_spans;
mod operations;
mod options;
mod pool;
mod prepared;
mod privacy;
