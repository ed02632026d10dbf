//! The SDK floor: the bare OpenTelemetry SDK doing exactly what one instrumented operation
//! needs, with no adapter code, so every adapter's cost can be read as "added CPU / floor".
//!
//! * DB floor: `tracer.build(span with the DB attributes)` + `end()` +
//!   `histogram.record(the DB metric attributes)`, sampled (batch processor) and under an
//!   unsampled parent (non-recording span + histogram).
//! * RPC floor (HTTP / gRPC pair): two such spans (client and server, the layers' attributes),
//!   two histograms (the duration metrics' attribute subsets), one inject and one extract
//!   through the global propagator (W3C TraceContext + Baggage, as the layers' default).

use std::hint::black_box;

use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue, global};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
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

/// The span and metric attributes of one side of an HTTP or gRPC call, as the layers record
/// them (metric: the span attributes whose keys the duration metric keeps).
struct Side {
    name: &'static str,
    kind: SpanKind,
    span: fn() -> Vec<KeyValue>,
    metric_keys: &'static [&'static str],
}

/// The metric attribute subset of `attrs`.
fn metric_attributes(attrs: &[KeyValue], keys: &[&str]) -> Vec<KeyValue> {
    attrs
        .iter()
        .filter(|kv| keys.contains(&kv.key.as_str()))
        .cloned()
        .collect()
}

/// `http.server.request.duration` keys (as `otel_rpc`'s HTTP server metric).
const HTTP_SERVER_METRIC: &[&str] = &[
    a::HTTP_REQUEST_METHOD,
    a::HTTP_ROUTE,
    a::HTTP_RESPONSE_STATUS_CODE,
    a::URL_SCHEME,
    a::NETWORK_PROTOCOL_VERSION,
];
/// `http.client.request.duration` keys.
const HTTP_CLIENT_METRIC: &[&str] = &[
    a::HTTP_REQUEST_METHOD,
    a::HTTP_RESPONSE_STATUS_CODE,
    a::URL_SCHEME,
    a::SERVER_ADDRESS,
    a::SERVER_PORT,
    a::NETWORK_PROTOCOL_VERSION,
];
/// `rpc.{client,server}.call.duration` keys.
const RPC_METRIC: &[&str] = &[
    a::RPC_SYSTEM_NAME,
    a::RPC_METHOD,
    a::RPC_RESPONSE_STATUS_CODE,
    a::SERVER_ADDRESS,
    a::SERVER_PORT,
];

const HTTP_CLIENT: Side = Side {
    name: "GET",
    kind: SpanKind::Client,
    span: || {
        vec![
            KeyValue::new(a::HTTP_REQUEST_METHOD, "GET"),
            KeyValue::new(a::URL_SCHEME, "http"),
            KeyValue::new(a::HTTP_RESPONSE_STATUS_CODE, 200_i64),
            KeyValue::new(a::NETWORK_PROTOCOL_VERSION, "1.1"),
            KeyValue::new(a::SERVER_ADDRESS, "127.0.0.1"),
            KeyValue::new(a::SERVER_PORT, 8080_i64),
            KeyValue::new(a::URL_FULL, "http://127.0.0.1:8080/users/42"),
        ]
    },
    metric_keys: HTTP_CLIENT_METRIC,
};

const HTTP_SERVER: Side = Side {
    name: "GET /users/{id}",
    kind: SpanKind::Server,
    span: || {
        vec![
            KeyValue::new(a::HTTP_REQUEST_METHOD, "GET"),
            KeyValue::new(a::URL_SCHEME, "http"),
            KeyValue::new(a::HTTP_RESPONSE_STATUS_CODE, 200_i64),
            KeyValue::new(a::NETWORK_PROTOCOL_VERSION, "1.1"),
            KeyValue::new(a::HTTP_ROUTE, "/users/{id}"),
            KeyValue::new(a::URL_PATH, "/users/42"),
        ]
    },
    metric_keys: HTTP_SERVER_METRIC,
};

const GRPC_CLIENT: Side = Side {
    name: "echo.Echo/Say",
    kind: SpanKind::Client,
    span: || {
        vec![
            KeyValue::new(a::RPC_SYSTEM_NAME, "grpc"),
            KeyValue::new(a::RPC_METHOD, "echo.Echo/Say"),
            KeyValue::new(a::RPC_RESPONSE_STATUS_CODE, "OK"),
            KeyValue::new(a::SERVER_ADDRESS, "127.0.0.1"),
            KeyValue::new(a::SERVER_PORT, 50051_i64),
        ]
    },
    metric_keys: RPC_METRIC,
};

const GRPC_SERVER: Side = Side {
    name: "echo.Echo/Say",
    kind: SpanKind::Server,
    span: || {
        vec![
            KeyValue::new(a::RPC_SYSTEM_NAME, "grpc"),
            KeyValue::new(a::RPC_METHOD, "echo.Echo/Say"),
            KeyValue::new(a::RPC_RESPONSE_STATUS_CODE, "OK"),
        ]
    },
    metric_keys: RPC_METRIC,
};

/// One bare-SDK request pair: client span, inject into fresh headers, extract, server span,
/// both ended, two histograms. The propagator is the global one (W3C TraceContext + Baggage,
/// installed by [`Pipeline::install`]), read as a hand-written integration would.
fn rpc_pair(
    tracer: &SdkTracer,
    (client, server): (&Side, &Side),
    histograms: &(Histogram<f64>, Histogram<f64>),
    parent: &Context,
) {
    let attrs = (client.span)();
    let client_metric = metric_attributes(&attrs, client.metric_keys);
    let span = tracer
        .span_builder(client.name)
        .with_kind(client.kind.clone())
        .with_attributes(attrs)
        .start_with_context(tracer, parent);
    let client_cx = parent.with_span(span);
    let mut headers = http::HeaderMap::new();
    global::get_text_map_propagator(|p| {
        p.inject_context(&client_cx, &mut HeaderInjector(&mut headers))
    });
    let remote =
        global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(black_box(&headers))));
    let attrs = (server.span)();
    let server_metric = metric_attributes(&attrs, server.metric_keys);
    let mut span = tracer
        .span_builder(server.name)
        .with_kind(server.kind.clone())
        .with_attributes(attrs)
        .start_with_context(tracer, &remote);
    span.end();
    histograms.1.record(0.001, &server_metric);
    client_cx.span().end();
    histograms.0.record(0.001, &client_metric);
}

/// The floor rows of the micro section.
pub fn micro(p: &Pipeline, n: usize) -> Vec<Micro> {
    let tracer = p.tracer_provider.tracer("otel-bench-floor");
    let meter = p.meter_provider.meter("otel-bench-floor");
    let histogram = meter.f64_histogram("bench.floor.db").build();
    let root = Context::new();
    let unsampled = unsampled_parent();
    let histograms = (
        meter.f64_histogram("bench.floor.client").build(),
        meter.f64_histogram("bench.floor.server").build(),
    );
    let http = (&HTTP_CLIENT, &HTTP_SERVER);
    let grpc = (&GRPC_CLIENT, &GRPC_SERVER);
    vec![
        time(FLOOR_DB_SAMPLED, n, || {
            db_operation(&tracer, &histogram, &root)
        }),
        time(FLOOR_DB_UNSAMPLED, n, || {
            db_operation(&tracer, &histogram, &unsampled)
        }),
        time(FLOOR_HTTP_SAMPLED, n / 4, || {
            rpc_pair(&tracer, http, &histograms, &root)
        }),
        time(FLOOR_HTTP_UNSAMPLED, n / 4, || {
            rpc_pair(&tracer, http, &histograms, &unsampled)
        }),
        time(FLOOR_GRPC_SAMPLED, n / 4, || {
            rpc_pair(&tracer, grpc, &histograms, &root)
        }),
        time(FLOOR_GRPC_UNSAMPLED, n / 4, || {
            rpc_pair(&tracer, grpc, &histograms, &unsampled)
        }),
    ]
}

/// Runs the sampled DB floor `n` times (for callgrind: `--profile floor-db`).
pub fn profile_db(p: &Pipeline, n: usize, unsampled: bool) {
    let tracer = p.tracer_provider.tracer("otel-bench-floor");
    let histogram = p
        .meter_provider
        .meter("otel-bench-floor")
        .f64_histogram("bench.floor.db")
        .build();
    let parent = if unsampled {
        unsampled_parent()
    } else {
        Context::new()
    };
    for _ in 0..n {
        db_operation(&tracer, &histogram, &parent);
    }
}

/// Runs the sampled HTTP (`grpc == false`) or gRPC pair floor `n` times (for callgrind:
/// `--profile floor-http` / `floor-grpc`).
pub fn profile_pair(p: &Pipeline, n: usize, grpc: bool) {
    let tracer = p.tracer_provider.tracer("otel-bench-floor");
    let meter = p.meter_provider.meter("otel-bench-floor");
    let histograms = (
        meter.f64_histogram("bench.floor.client").build(),
        meter.f64_histogram("bench.floor.server").build(),
    );
    let sides = if grpc {
        (&GRPC_CLIENT, &GRPC_SERVER)
    } else {
        (&HTTP_CLIENT, &HTTP_SERVER)
    };
    let root = Context::new();
    for _ in 0..n {
        rpc_pair(&tracer, sides, &histograms, &root);
    }
}

/// Row name: bare SDK DB operation, sampled.
pub const FLOOR_DB_SAMPLED: &str =
    "floor: bare SDK DB span (7 attrs) + end + histogram (6 attrs), sampled";
/// Row name: bare SDK DB operation, unsampled parent.
pub const FLOOR_DB_UNSAMPLED: &str = "floor: bare SDK DB span + end + histogram, unsampled parent";
/// Row name: bare SDK HTTP pair, sampled.
pub const FLOOR_HTTP_SAMPLED: &str =
    "floor: bare SDK HTTP pair (2 spans, 2 histograms, inject, extract), sampled";
/// Row name: bare SDK HTTP pair, unsampled parent.
pub const FLOOR_HTTP_UNSAMPLED: &str =
    "floor: bare SDK HTTP pair (2 spans, 2 histograms, inject, extract), unsampled parent";
/// Row name: bare SDK gRPC pair, sampled.
pub const FLOOR_GRPC_SAMPLED: &str =
    "floor: bare SDK gRPC pair (2 spans, 2 histograms, inject, extract), sampled";
/// Row name: bare SDK gRPC pair, unsampled parent.
pub const FLOOR_GRPC_UNSAMPLED: &str =
    "floor: bare SDK gRPC pair (2 spans, 2 histograms, inject, extract), unsampled parent";
