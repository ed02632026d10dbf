//! Exemplar-ready metrics: every histogram point is recorded with the operation's own context
//! current, so an SDK that samples exemplars (opentelemetry_sdk 0.33 does not yet) links the
//! point to the operation's span, not to its caller. Checked with a `MeterProvider` whose
//! instruments note the span current at each measurement: the core recorder (a database
//! operation under a parent) and the HTTP server layer (real axum server and hyper client),
//! including the body size histograms.

use std::sync::{Arc, Mutex};

use opentelemetry::metrics::{
    Histogram, HistogramBuilder, InstrumentProvider, Meter, MeterProvider, SyncInstrument,
};
use opentelemetry::trace::{Span as _, SpanId, TraceContextExt, Tracer};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use otel_rpc::InstrumentationOptions;
use otel_rpc::{DbOperation, Outcome, SpanRecorder};
use otel_testkit::TestTelemetry;

/// (instrument name, span current at the measurement).
type Seen = Arc<Mutex<Vec<(String, SpanId)>>>;

/// A meter provider whose histograms record which span was current.
#[derive(Clone, Default)]
struct ContextSeeing(Seen);

struct Instruments(Seen);

struct Noting {
    name: String,
    seen: Seen,
}

impl<T> SyncInstrument<T> for Noting {
    fn measure(&self, _value: T, _attributes: &[KeyValue]) {
        let span = Context::current().span().span_context().span_id();
        self.seen
            .lock()
            .expect("lock")
            .push((self.name.clone(), span));
    }
}

impl Instruments {
    fn noting<T>(&self, name: &str) -> Arc<dyn SyncInstrument<T> + Send + Sync> {
        Arc::new(Noting {
            name: name.to_owned(),
            seen: Arc::clone(&self.0),
        })
    }
}

impl InstrumentProvider for Instruments {
    fn f64_histogram(&self, b: HistogramBuilder<'_, Histogram<f64>>) -> Histogram<f64> {
        Histogram::new(self.noting(&b.name))
    }

    fn u64_histogram(&self, b: HistogramBuilder<'_, Histogram<u64>>) -> Histogram<u64> {
        Histogram::new(self.noting(&b.name))
    }
}

impl MeterProvider for ContextSeeing {
    fn meter_with_scope(&self, _scope: InstrumentationScope) -> Meter {
        Meter::new(Arc::new(Instruments(Arc::clone(&self.0))))
    }
}

/// A client recorder exporting spans into `t` and metric points into `meters`.
fn recorder(t: &TestTelemetry, meters: &ContextSeeing) -> SpanRecorder {
    SpanRecorder::builder(opentelemetry::trace::SpanKind::Client, "exemplar-test")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(meters.clone())
        .build()
}

#[test]
fn a_database_operation_records_under_its_own_span() {
    let t = TestTelemetry::new();
    let meters = ContextSeeing::default();
    let recorder = recorder(&t, &meters);
    let parent = t.tracer("app").start("request");
    let parent_id = parent.span_context().span_id();
    let parent_cx = Context::current_with_span(parent);
    let op = DbOperation::new("postgresql").operation("SELECT");
    let recording = recorder.start_db(&parent_cx, &op);
    let own = recording.context().span().span_context().span_id();
    recording.end(Outcome::Success);

    let seen = meters.0.lock().expect("lock").clone();
    assert_eq!(seen, vec![("db.client.operation.duration".to_owned(), own)]);
    assert_ne!(own, parent_id);
    // The caller's context is current again afterwards.
    assert!(!Context::current().span().span_context().is_valid());
}

#[test]
fn an_unsampled_operation_records_under_the_callers_context() {
    // Its span is exported nowhere, so an exemplar could link to nothing: no attach.
    let t = TestTelemetry::with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff);
    let meters = ContextSeeing::default();
    let recorder = recorder(&t, &meters);
    let recording = recorder.start_db(&Context::new(), &DbOperation::new("postgresql"));
    assert!(!recording.is_recording());
    let own = recording.context().span().span_context().span_id();
    recording.end(Outcome::Success);
    let seen = meters.0.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![("db.client.operation.duration".to_owned(), SpanId::INVALID)]
    );
    assert_ne!(own, SpanId::INVALID);
}

#[test]
fn a_prepared_operation_records_every_point_on_a_provider_without_binding() {
    // The points of a prepared operation are bound only on the SDK's own meter provider: this
    // one does not implement binding (the API's default would drop bound points), so every
    // point is recorded with its attributes, under the operation's span.
    let t = TestTelemetry::new();
    let meters = ContextSeeing::default();
    let recorder = recorder(&t, &meters);
    let prepared = recorder.prepare_db(&DbOperation::new("postgresql").operation("SELECT"), None);
    let mut own = Vec::new();
    for _ in 0..3 {
        let recording = recorder.start_prepared_db(&Context::new(), None, &prepared, None);
        own.push((
            "db.client.operation.duration".to_owned(),
            recording.context().span().span_context().span_id(),
        ));
        recording.end(Outcome::Success);
    }
    assert_eq!(*meters.0.lock().expect("lock"), own);
}

#[cfg(all(feature = "http", feature = "axum"))]
#[tokio::test]
async fn an_http_request_records_every_histogram_under_its_server_span() {
    use axum::Router;
    use axum::routing::post;
    use bytes::Bytes;
    use http_body_util::Full;
    use opentelemetry::trace::SpanKind;
    use otel_rpc::HttpServerLayer;

    use crate::http_fixture::{client, client_builder, request, send, serve};

    let t = TestTelemetry::new();
    let meters = ContextSeeing::default();
    let layer = HttpServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(meters.clone())
        .body_size_metrics(true)
        .build();
    let addr = serve(
        Router::new()
            .route("/echo", post(|b: Bytes| async move { b }))
            .layer(layer),
    )
    .await;
    let traced = client(client_builder(&t).build());
    let req = request("POST", addr, "/echo")
        .header(http::header::CONTENT_LENGTH, 3)
        .body(Full::new(Bytes::from_static(b"abc")))
        .expect("request");
    assert_eq!(send(&traced, req).await.0, 200);

    let server = t
        .spans()
        .into_iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .expect("server span");
    let mut seen = meters.0.lock().expect("lock").clone();
    seen.sort_by_key(|(name, _)| name.clone());
    let mut expected: Vec<(String, SpanId)> = [
        "http.server.request.body.size",
        "http.server.request.duration",
        "http.server.response.body.size",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), server.span_context.span_id()))
    .collect();
    expected.sort_by_key(|(name, _)| name.clone());
    assert_eq!(seen, expected);
}
