//! Where a span's parent comes from when the caller does not pass one.

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

/// The context an operation started now should be parented to.
///
/// What decides, in order:
///
/// 1. the OpenTelemetry current context ([`Context::current`]) when it holds a valid span: the
///    span of a [`Recording::in_scope`](crate::Recording::in_scope) future, a context you
///    attached, and, with `tracing-opentelemetry` 0.32 or later, the span of the entered
///    `tracing` span (its layer attaches the entered span's context by default,
///    `with_context_activation(true)`), so with `#[tracing::instrument]` this branch decides;
/// 2. with the `tracing` feature, when the current context holds no span (the layer was built
///    `with_context_activation(false)`, or code runs outside an entered span's poll), the
///    context of the current `tracing` span through `tracing-opentelemetry`;
/// 3. else the current context as it is: the operation starts a new trace.
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
