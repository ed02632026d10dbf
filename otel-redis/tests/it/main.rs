//! All integration tests of this crate in one binary (one link instead of one per file).
//! Tests that need a process of their own (a counting global allocator, a process-wide
//! counter, RSS or latency measurements, global providers) stay separate files beside `it/`.

mod cluster;
mod commands;
mod common;
mod concurrency;
mod conventions;
mod hostile;
mod options;
mod pipelines;
mod pool;
mod secrets;
mod select;
mod sync;
