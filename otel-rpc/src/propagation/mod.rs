//! Context propagation: the default propagator (the application's global one, else strict
//! W3C TraceContext + Baggage), the strict view of incoming carriers every propagator reads
//! through, and `OTEL_PROPAGATORS` support.
//!
//! * [`default_propagator`]: what every recorder uses unless its builder was given a
//!   `.propagator(..)`; resolves [`opentelemetry::global::get_text_map_propagator`] at every
//!   call ([`DefaultPropagator`]).
//! * [`BoundedExtractor`]: wraps every carrier in [`SpanRecorder::extract`](crate::SpanRecorder::extract):
//!   `traceparent` validated exactly ([`valid_traceparent`]; duplicated = absent, so the
//!   request starts a new trace), `tracestate` grammar and limits, W3C Baggage limits, and a
//!   length cap on every other field. It works for any propagator: a B3 or Jaeger propagator
//!   reads its own headers unchanged.
//! * [`propagator_from_env`]: how `OTEL_PROPAGATORS` reaches the global propagator.

use std::sync::{Arc, OnceLock};

use opentelemetry::propagation::TextMapPropagator;

pub(crate) mod baggage;
pub(crate) mod env;
pub(crate) mod extractor;
pub(crate) mod global;
pub(crate) mod traceparent;
pub(crate) mod tracestate;

/// A shareable propagator.
pub type SharedPropagator = Arc<dyn TextMapPropagator + Send + Sync>;

/// Largest header value handed to a propagator. W3C Baggage allows 8192 bytes in total and a
/// `traceparent` is 55 characters; anything longer is ignored (as if absent) instead of parsed.
pub const MAX_PROPAGATION_HEADER_LEN: usize = 8192;

/// The default of every recorder: the global propagator if the application installed one,
/// else W3C TraceContext + W3C Baggage, decided at each call (see `DefaultPropagator`).
/// Returns one shared instance.
pub fn default_propagator() -> SharedPropagator {
    static DEFAULT: OnceLock<SharedPropagator> = OnceLock::new();
    DEFAULT
        .get_or_init(|| Arc::new(global::DefaultPropagator::new()))
        .clone()
}

/// `value` without leading and trailing spaces and tabs (HTTP optional whitespace).
pub(crate) fn trim_ows(value: &str) -> &str {
    let b = value.as_bytes();
    let ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ows(c)).map_or(start, |i| i + 1);
    // Both ends are ASCII bytes, so char boundaries.
    &value[start..end]
}
