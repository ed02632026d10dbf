//! The cost of the HTTP server layer's opt-in features, in-process (same harness as
//! [`crate::layers`]): the layer with defaults, then with each option alone, on a request
//! carrying a sampled `traceparent` (one of the captured headers). "Option minus defaults" is
//! what the option adds per request.

use otel_rpc::HttpServerLayer;
use otel_rpc::InstrumentationOptions;
use otel_rpc::LayerBuilder;
use otel_rpc::SemconvStability;

use crate::layers::{http_call, router};
use crate::micro::{Micro, time};
use crate::pipeline::Pipeline;

/// Row name: the server layer with its defaults.
pub const DEFAULTS: &str = "HTTP server layer opt-ins: defaults";
/// Row name: with `active_requests_metric` and `body_size_metrics`.
pub const METRICS: &str = "HTTP server layer opt-ins: active_requests + body size histograms";
/// Row name: capturing two request headers and one response header.
pub const CAPTURE: &str =
    "HTTP server layer opt-ins: capture 2 request (1 present) + 1 response header";
/// Row name: `http/dup`.
pub const DUP: &str = "HTTP server layer opt-ins: http/dup (previous names)";
/// Row name: what exemplar-ready recording adds to every operation's end.
pub const ATTACH: &str = "exemplar-ready end: attach + detach of the operation's context (no I/O)";

/// The rows.
pub fn rows(p: &Pipeline, rt: &tokio::runtime::Runtime, n: usize) -> Vec<Micro> {
    let builder = || -> LayerBuilder<otel_rpc::HttpServer> {
        HttpServerLayer::builder()
            .tracer_provider(p.tracer_provider.clone())
            .meter_provider(p.meter_provider.clone())
            .semconv_stability(SemconvStability::stable())
            .capture_request_headers(Vec::<String>::new())
            .capture_response_headers(Vec::<String>::new())
    };
    let mut defaults = router().layer(builder().build());
    let mut metrics = router().layer(
        builder()
            .active_requests_metric(true)
            .body_size_metrics(true)
            .build(),
    );
    let mut capture = router().layer(
        builder()
            .capture_request_headers(["traceparent", "x-absent"])
            .capture_response_headers(["content-type"])
            .build(),
    );
    let mut dup = router().layer(
        builder()
            .semconv_stability(SemconvStability::stable().with_http_dup(true))
            .build(),
    );
    let cx = {
        use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
        let span = p.tracer_provider.tracer("otel-bench").start("operation");
        opentelemetry::Context::current_with_span(span)
    };
    vec![
        time(ATTACH, n * 4, || {
            let _current = std::hint::black_box(cx.clone()).attach();
        }),
        time(DEFAULTS, n, || http_call(rt, &mut defaults, true)),
        time(METRICS, n, || http_call(rt, &mut metrics, true)),
        time(CAPTURE, n, || http_call(rt, &mut capture, true)),
        time(DUP, n, || http_call(rt, &mut dup, true)),
    ]
}
