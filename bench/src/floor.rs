//! The SDK floor: the bare OpenTelemetry SDK doing exactly what one instrumented operation
//! needs, with no adapter code, so every adapter's cost can be read as "added CPU / floor".
//!
//! * DB floor: `tracer.build(span with the DB attributes)` + `end()` +
//!   `histogram.record(the DB metric attributes)`, sampled (batch processor) and under an
//!   unsampled parent (non-recording span + histogram).
//! * RPC floor (HTTP / gRPC pair): two such spans (client and server), two histograms, one
//!   inject and one extract of the W3C headers.

use std::hint::black_box;

use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_semantic_conventions::attribute as a;

use crate::micro::{Micro, time};
use crate::pipeline::{Pipeline, unsampled_parent};

/// The span attributes of a Redis `GET` as the adapter records them (start-time set plus the
/// query text), built fresh each time as the adapter must.
fn db_span_attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new(a::DB_SYSTEM_NAME, "redis"),
        KeyValue::new(a::DB_NAMESPACE, "0"),
        KeyValue::new(a::DB_OPERATION_NAME, "GET"),
        KeyValue::new(a::DB_QUERY_SUMMARY, "GET"),
        KeyValue::new(a::SERVER_ADDRESS, "127.0.0.1"),
        KeyValue::new(a::SERVER_PORT, 6379_i64),
        KeyValue::new(a::DB_QUERY_TEXT, "GET user:1"),
    ]
}

/// The metric attributes of the same operation.
fn db_metric_attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new(a::DB_SYSTEM_NAME, "redis"),
        KeyValue::new(a::DB_NAMESPACE, "0"),
        KeyValue::new(a::DB_OPERATION_NAME, "GET"),
        KeyValue::new(a::DB_QUERY_SUMMARY, "GET"),
        KeyValue::new(a::SERVER_ADDRESS, "127.0.0.1"),
        KeyValue::new(a::SERVER_PORT, 6379_i64),
    ]
}

/// One bare-SDK DB operation under `parent`.
fn db_operation(tracer: &SdkTracer, histogram: &Histogram<f64>, parent: &Context) {
    let span = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .with_attributes(db_span_attributes())
        .start_with_context(tracer, parent);
    let mut span = black_box(span);
    span.end();
    histogram.record(black_box(0.001), &db_metric_attributes());
}

/// The HTTP request attributes of one side, as the layers record them.
fn http_attributes(server: bool) -> Vec<KeyValue> {
    let mut v = vec![
        KeyValue::new(a::HTTP_REQUEST_METHOD, "GET"),
        KeyValue::new(a::URL_SCHEME, "http"),
        KeyValue::new(a::HTTP_RESPONSE_STATUS_CODE, 200_i64),
        KeyValue::new(a::NETWORK_PROTOCOL_VERSION, "1.1"),
    ];
    if server {
        v.push(KeyValue::new(a::HTTP_ROUTE, "/items/{id}"));
        v.push(KeyValue::new(a::URL_PATH, "/items/7"));
    } else {
        v.push(KeyValue::new(a::SERVER_ADDRESS, "127.0.0.1"));
        v.push(KeyValue::new(a::SERVER_PORT, 8080_i64));
        v.push(KeyValue::new(a::URL_FULL, "http://127.0.0.1:8080/items/7"));
    }
    v
}

/// One bare-SDK request pair: client span, inject, extract, server span, two histograms.
fn rpc_pair(
    tracer: &SdkTracer,
    propagator: &TraceContextPropagator,
    histograms: &(Histogram<f64>, Histogram<f64>),
    parent: &Context,
) {
    let client = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .with_attributes(http_attributes(false))
        .start_with_context(tracer, parent);
    let client_cx = parent.with_span(client);
    let mut headers = http::HeaderMap::new();
    propagator.inject_context(&client_cx, &mut HeaderInjector(&mut headers));
    let remote = propagator.extract(&HeaderExtractor(black_box(&headers)));
    let mut server = tracer
        .span_builder("GET /items/{id}")
        .with_kind(SpanKind::Server)
        .with_attributes(http_attributes(true))
        .start_with_context(tracer, &remote);
    server.end();
    histograms.1.record(0.001, &http_attributes(true)[..4]);
    client_cx.span().end();
    histograms.0.record(0.001, &http_attributes(false)[..4]);
}

/// The floor rows of the micro section.
pub fn micro(p: &Pipeline, n: usize) -> Vec<Micro> {
    let tracer = p.tracer_provider.tracer("otel-bench-floor");
    let meter = p.meter_provider.meter("otel-bench-floor");
    let histogram = meter.f64_histogram("bench.floor.db").build();
    let root = Context::new();
    let unsampled = unsampled_parent();
    let propagator = TraceContextPropagator::new();
    let histograms = (
        meter.f64_histogram("bench.floor.client").build(),
        meter.f64_histogram("bench.floor.server").build(),
    );
    vec![
        time(FLOOR_DB_SAMPLED, n, || {
            db_operation(&tracer, &histogram, &root)
        }),
        time(FLOOR_DB_UNSAMPLED, n, || {
            db_operation(&tracer, &histogram, &unsampled)
        }),
        time(FLOOR_RPC_SAMPLED, n / 4, || {
            rpc_pair(&tracer, &propagator, &histograms, &root)
        }),
        time(FLOOR_RPC_UNSAMPLED, n / 4, || {
            rpc_pair(&tracer, &propagator, &histograms, &unsampled)
        }),
    ]
}

/// Row name: bare SDK DB operation, sampled.
pub const FLOOR_DB_SAMPLED: &str =
    "floor: bare SDK DB span (7 attrs) + end + histogram (6 attrs), sampled";
/// Row name: bare SDK DB operation, unsampled parent.
pub const FLOOR_DB_UNSAMPLED: &str = "floor: bare SDK DB span + end + histogram, unsampled parent";
/// Row name: bare SDK request pair, sampled.
pub const FLOOR_RPC_SAMPLED: &str =
    "floor: bare SDK HTTP pair (2 spans, 2 histograms, inject, extract), sampled";
/// Row name: bare SDK request pair, unsampled parent.
pub const FLOOR_RPC_UNSAMPLED: &str =
    "floor: bare SDK HTTP pair (2 spans, 2 histograms, inject, extract), unsampled parent";
