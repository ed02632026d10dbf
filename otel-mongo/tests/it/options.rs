//! The shared options vocabulary on the Mongo builder: filter and span name typed on
//! `DbOperation`, attribute hook, text length cap, classification, the on/off switch,
//! `require_parent`.

use crate::common;

use std::borrow::Cow;

use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;
use opentelemetry::KeyValue;
use opentelemetry::trace::Status;
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::{DbInstrumentationOptions, InstrumentationOptions, OtelCommandHandler};
use otel_rpc::{Observed, Verdict};
use otel_testkit::{SpanAssert, TestTelemetry, env};

#[tokio::test]
async fn filter_on_the_operation_skips_commands_and_their_state() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .filter(|op| op.operation.as_ref().is_none_or(|o| o.as_str() != "ping"))
        .build();
    let f = common::fixture_with(t, handler).await;
    f.in_span("caller", async {
        f.db.run_command(doc! { "ping": 1 }).await.expect("ping");
        f.db.collection::<Document>("c")
            .insert_one(doc! { "x": 1 })
            .await
            .expect("insert");
    })
    .await;
    assert!(f.t.spans_named("ping").is_empty());
    f.span("insert c").assert_child_of(&f.span("caller"));
    assert_eq!(f.handler.in_flight(), 0);
    let ops: Vec<_> =
        f.t.histogram("db.client.operation.duration")
            .iter()
            .filter_map(|p| p.attr(a::DB_OPERATION_NAME))
            .collect();
    assert_eq!(ops, ["insert"], "a filtered command is not measured either");
    f.cleanup().await;
}

#[tokio::test]
async fn span_name_and_attribute_hooks() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .span_name(|op| {
            let name = op.operation.as_ref().map_or("?", |o| o.as_str());
            Cow::Owned(format!("mongo.{name}"))
        })
        .attributes(|cmd, out| {
            out.push(KeyValue::new("app.tenant", cmd.db.clone()));
        })
        .max_query_text_len(24)
        .build();
    let f = common::fixture_with(t, handler).await;
    f.in_span("caller", async {
        f.db.collection::<Document>("orders")
            .insert_one(doc! { "x": 1 })
            .await
            .expect("insert");
    })
    .await;
    let span = f.span("mongo.insert");
    span.assert_child_of(&f.span("caller"))
        .assert_attr("app.tenant", f.db_name.clone())
        .assert_attr(a::DB_QUERY_SUMMARY, "insert orders")
        .assert_attr(a::DB_QUERY_TEXT, r#"{"insert": "orders", …"#);
    f.cleanup().await;
}

/// A user rule decides: a duplicate key is expected (status Unset, no `error.type`, the code
/// kept), while another rule turns every success into an error.
#[tokio::test]
async fn classification_flips_duplicate_keys_to_unset_and_successes_to_error() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .classify(|o| match o {
            Observed::Db {
                status_code: Some("11000"),
                ..
            } => Some(Verdict::NotError),
            _ => None,
        })
        .build();
    let f = common::fixture_with(t, handler).await;
    let coll = f.db.collection::<Document>("users");
    coll.insert_one(doc! { "_id": 1 }).await.expect("first");
    assert!(coll.insert_one(doc! { "_id": 1 }).await.is_err());
    let dup = &f.t.spans_named("insert users")[1];
    assert_eq!(dup.status, Status::Unset);
    dup.assert_no_attr(a::ERROR_TYPE)
        .assert_attr(a::DB_RESPONSE_STATUS_CODE, "11000");
    let points = f.t.histogram("db.client.operation.duration");
    assert!(points.iter().all(|p| p.attr(a::ERROR_TYPE).is_none()));
    f.cleanup().await;

    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .classify(|o| match o {
            Observed::Db {
                error_type: None, ..
            } => Some(Verdict::Error),
            _ => None,
        })
        .build();
    let f = common::fixture_with(t, handler).await;
    f.db.collection::<Document>("c")
        .insert_one(doc! { "x": 1 })
        .await
        .expect("insert");
    let span = f.span("insert c");
    span.assert_error().assert_attr(a::ERROR_TYPE, "_OTHER");
    f.cleanup().await;
}

/// `enabled(false)` (what `OTEL_INSTRUMENTATION_MONGO_ENABLED=false` sets): `install` leaves
/// the client options alone, nothing is recorded.
#[tokio::test]
async fn a_disabled_handler_is_a_pass_through() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let handler = common::builder(&t).enabled(false).build();
    let mut options = ClientOptions::parse(&uri).await.expect("uri");
    handler.install(&mut options);
    assert!(options.command_event_handler.is_none());
    assert!(options.cmap_event_handler.is_none());
    let client = mongodb::Client::with_options(options).expect("client");
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .expect("ping");
    assert!(t.spans().is_empty());
    assert_eq!(t.series("db.client.operation.duration"), 0);
    assert_eq!(
        OtelCommandHandler::builder()
            .enabled(true)
            .build()
            .in_flight(),
        0
    );
}

/// `recorder(..)`: a prebuilt recorder (its providers, scope and metric) records the commands.
#[tokio::test]
async fn a_prebuilt_recorder_is_used_as_given() {
    let t = TestTelemetry::new();
    let recorder = otel_rpc::SpanRecorder::builder(
        opentelemetry::trace::SpanKind::Client,
        "my-prebuilt-recorder",
    )
    .tracer_provider(t.tracer_provider.clone())
    .meter_provider(t.meter_provider.clone())
    .build();
    let handler = OtelCommandHandler::builder().recorder(recorder).build();
    let f = common::fixture_with(t, handler).await;
    f.db.collection::<Document>("c")
        .insert_one(doc! { "x": 1 })
        .await
        .expect("insert");
    let span = f.span("insert c");
    assert_eq!(span.instrumentation_scope.name(), "my-prebuilt-recorder");
    assert_eq!(f.t.series("db.client.operation.duration"), 1);
    f.cleanup().await;
}

/// `require_parent(true)` (the shared DB option): a command with no current span records its
/// duration metric but no span; inside a traced caller it is a child span as always.
#[tokio::test]
async fn require_parent_keeps_the_metric_and_drops_parentless_spans() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).require_parent(true).build();
    let f = common::fixture_with(t, handler).await;
    let coll = f.db.collection::<Document>("jobs");
    coll.insert_one(doc! { "background": 1 })
        .await
        .expect("untraced insert");
    assert!(
        f.t.spans().is_empty(),
        "{}",
        otel_testkit::describe(&f.t.spans())
    );
    assert_eq!(f.handler.in_flight(), 0);
    let measured = |op: &str| -> u64 {
        f.t.histogram("db.client.operation.duration")
            .iter()
            .filter(|p| p.attr(a::DB_OPERATION_NAME).as_deref() == Some(op))
            .map(|p| p.count)
            .sum()
    };
    assert_eq!(measured("insert"), 1, "the parentless insert is measured");

    f.in_span("caller", async {
        coll.find_one(doc! {}).await.expect("traced find");
    })
    .await;
    f.span("find jobs").assert_child_of(&f.span("caller"));
    assert_eq!(f.t.spans().len(), 2, "caller and find only");
    assert_eq!(measured("find"), 1);
    f.cleanup().await;
}
