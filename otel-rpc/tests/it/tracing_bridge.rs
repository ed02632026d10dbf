//! With the `tracing` feature, a span started inside a `tracing` span (bridged to
//! OpenTelemetry by `tracing-opentelemetry`) becomes its child.
#![cfg(feature = "tracing")]

use opentelemetry::trace::{SpanKind, TracerProvider as _};
use otel_rpc::{DbOperation, Outcome, SpanRecorder, current_context};
use otel_testkit::{SpanAssert, TestTelemetry};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn db_span_inside_a_tracing_span_is_its_child() {
    let t = TestTelemetry::new();
    let layer = tracing_opentelemetry::layer().with_tracer(t.tracer_provider.tracer("tracing"));
    let subscriber = tracing_subscriber::registry().with(layer);
    let rec = SpanRecorder::builder(SpanKind::Client, "x")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("handle_request");
        let _enter = span.enter();
        let op = DbOperation::new("redis").operation("GET");
        rec.start_db(&current_context(), &op).end(Outcome::Success);
    });
    let parent = t.span("handle_request");
    t.span("GET")
        .assert_child_of(&parent)
        .assert_kind(SpanKind::Client);
}
