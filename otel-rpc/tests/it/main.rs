//! All integration tests of this crate in one binary (one link instead of one per file).
//! Tests that need a process of their own (a counting global allocator, a process-wide
//! counter, RSS or latency measurements, global providers) stay separate files beside `it/`.

mod conventions;
mod exception_signal;
mod grpc;
mod http;
mod layer_classify;
mod layer_conventions;
mod layer_untrusted;
mod options;
mod recorder;
mod trace_context;
mod tracing_bridge;
mod untrusted;
