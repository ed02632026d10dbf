//! The loopback operations, one module per adapter. Each `bench` function sets up raw and
//! instrumented clients on the same server and returns the interleaved comparisons.

pub mod grpc;
pub mod http;
pub mod mongo;
pub mod redis;
pub mod sql;

use std::future::Future;

use opentelemetry::context::FutureExt;

use crate::measure::Variant;
use crate::pipeline::unsampled_parent;

/// Runs `fut` (a whole round) under the parent its variant needs: an unsampled remote parent
/// for [`Variant::Unsampled`], no parent (root spans, sampled) otherwise.
pub async fn with_parent<F: Future>(v: Variant, fut: F) -> F::Output {
    match v {
        Variant::Unsampled => fut.with_context(unsampled_parent()).await,
        _ => fut.await,
    }
}

/// Benchmark sizing.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Interleaved rounds per operation.
    pub rounds: usize,
    /// Forces the operations per round (else per-operation defaults scaled by `scale`).
    pub ops: Option<usize>,
    /// Multiplier of the default operations per round (`--quick` lowers it).
    pub scale: f64,
}

impl Plan {
    /// Operations per round for an operation whose default is `default`.
    pub fn ops(&self, default: usize) -> usize {
        self.ops
            .unwrap_or_else(|| ((default as f64 * self.scale) as usize).max(10))
    }
}

/// Fails loudly: a benchmark of failing operations measures nothing.
pub fn check<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("operation failed during the benchmark: {e}");
            std::process::exit(1);
        }
    }
}
