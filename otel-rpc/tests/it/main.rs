//! All integration tests of this crate in one binary (one link instead of one per file).
//! Tests that need a process of their own (a counting global allocator, a process-wide
//! counter, RSS or latency measurements, global providers) stay separate files beside `it/`.

mod agent_variables;
mod attribute_caps;
mod conventions;
#[cfg(feature = "grpc")]
#[path = "../support/echo.rs"]
mod echo;
mod exception_signal;
mod exemplar_context;
mod grpc;
mod grpc_bounds;
mod header_capture;
mod http;
mod http_fixture;
mod http_metrics;
mod known_methods;
mod layer_classify;
mod layer_conventions;
mod layer_untrusted;
mod options;
mod recorder;
mod reqwest_resends;
mod semconv_dup;
mod stream_panics;
mod trace_context;
mod tracing_bridge;
mod untrusted;
