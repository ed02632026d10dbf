//! All integration tests of this crate in one binary (one link instead of one per file).
//! Tests that need a process of their own (a counting global allocator, a process-wide
//! counter, RSS or latency measurements, global providers, `tracing`'s process-wide callsite
//! interest cache) stay separate files beside `it/`.

#[allow(dead_code)]
mod demo_common;
mod demo_trace;
mod jaeger_e2e;
mod python_propagation;
mod reliability_cancel;
mod reliability_common;
mod reliability_faults;
mod reliability_input;
mod secrets;
mod semconv_dup;
mod services_smoke;
