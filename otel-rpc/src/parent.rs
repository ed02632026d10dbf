//! Where a span's parent comes from when the caller does not pass one.

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

/// The context an operation started now should be parented to.
///
/// The OpenTelemetry current context when it holds a valid span. With the `tracing` feature,
/// when it does not, the context of the current `tracing` span (through
/// `tracing-opentelemetry`), so code instrumented with `#[tracing::instrument]` gets correctly
/// nested database and RPC spans.
///
/// ```
/// let cx = otel_rpc::current_context();
/// # let _ = cx;
/// ```
pub fn current_context() -> Context {
    let cx = Context::current();
    if cx.has_active_span() {
        return cx;
    }
    #[cfg(feature = "tracing")]
    {
        let span = tracing::Span::current();
        if !span.is_disabled() {
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            let tcx = span.context();
            if tcx.span().span_context().is_valid() {
                return tcx;
            }
        }
    }
    cx
}
