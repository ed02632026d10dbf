//! Counters of telemetry problems that were swallowed instead of surfacing to the application.
//!
//! Instrumentation must never break the application: when an adapter meets a problem of its
//! own (an in-flight entry evicted because its reply never came, a state lock poisoned, ...) it
//! counts it here and carries on. Read the totals to alert on them or to assert in tests.

use std::sync::atomic::{AtomicU64, Ordering};

static SWALLOWED: AtomicU64 = AtomicU64::new(0);

/// Counts one swallowed telemetry problem.
pub fn count_swallowed_error() {
    SWALLOWED.fetch_add(1, Ordering::Relaxed);
}

/// How many telemetry problems were swallowed in this process so far.
///
/// ```
/// let before = otel_rpc::swallowed_errors();
/// otel_rpc::count_swallowed_error();
/// assert!(otel_rpc::swallowed_errors() > before);
/// ```
pub fn swallowed_errors() -> u64 {
    SWALLOWED.load(Ordering::Relaxed)
}
