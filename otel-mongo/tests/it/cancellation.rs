//! An operation future dropped mid-flight (`tokio::time::timeout`): the driver emits no reply
//! event, but checks the connection back in; the handler ends the span then, as `cancelled`.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::options::ClientOptions;
use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry_semantic_conventions::attribute as a;
use otel_rpc::Outcome;
use otel_testkit::{SpanAssert, TestTelemetry, env};

/// Long enough for the driver to build and send the command, far shorter than FerretDB takes
/// to store 20,000 documents.
const TIMEOUT: Duration = Duration::from_millis(250);

fn big_batch() -> Vec<Document> {
    (0..20_000i64)
        .map(|i| doc! { "i": i, "pad": "x".repeat(64) })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_operation_ends_promptly_as_cancelled() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("slow");
    let docs = big_batch();
    let caller = Context::current_with_span(f.t.tracer("test").start("caller"));
    let result = tokio::time::timeout(TIMEOUT, coll.insert_many(docs))
        .with_context(caller.clone())
        .await;
    let dropped_at = Instant::now();
    caller.span().end();
    assert!(result.is_err(), "the insert finished within {TIMEOUT:?}");

    while f.handler.in_flight() > 0 && dropped_at.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ended_after = dropped_at.elapsed();
    assert_eq!(
        f.handler.in_flight(),
        0,
        "still in flight after {ended_after:?}"
    );
    assert!(ended_after < Duration::from_secs(1), "{ended_after:?}");
    let span = f.span("insert slow");
    span.assert_error()
        .assert_attr(a::ERROR_TYPE, Outcome::CANCELLED_ERROR_TYPE)
        .assert_child_of(&f.span("caller"));
    assert_eq!(f.handler.lost_replies(), 0);

    // The client keeps working and the next command is a plain success.
    coll.insert_one(doc! { "after": 1 })
        .await
        .expect("insert after the timeout");
    assert_eq!(f.t.spans_named("insert slow").len(), 2);
    assert_eq!(f.handler.in_flight(), 0);
    f.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_operations_are_never_cancelled_by_check_ins() {
    const OPS: usize = 200;
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("busy");
    coll.insert_one(doc! { "seed": 1 }).await.expect("seed");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..OPS {
        let coll = coll.clone();
        tasks.spawn(async move {
            if i % 2 == 0 {
                coll.insert_one(doc! { "i": i as i64 }).await.map(|_| ())
            } else {
                coll.find_one(doc! { "seed": 1 }).await.map(|_| ())
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task").expect("operation");
    }

    let spans: Vec<_> =
        f.t.spans()
            .into_iter()
            .filter(|s| s.name == "insert busy" || s.name == "find busy")
            .collect();
    assert_eq!(spans.len(), OPS + 1);
    for span in &spans {
        span.assert_unset().assert_no_attr(a::ERROR_TYPE);
    }
    assert_eq!(f.handler.in_flight(), 0);
    assert_eq!(f.handler.lost_replies(), 0);
    f.cleanup().await;
}

#[tokio::test]
async fn a_pool_event_handler_installed_before_ours_still_gets_every_event() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let seen: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let mut options = ClientOptions::parse(&uri).await.expect("uri");
    let sink = Arc::clone(&seen);
    options.cmap_event_handler = Some(EventHandler::callback(move |ev| {
        let kind = match ev {
            CmapEvent::ConnectionCheckedOut(_) => "checked out",
            CmapEvent::ConnectionCheckedIn(_) => "checked in",
            _ => return,
        };
        if let Ok(mut seen) = sink.lock() {
            seen.push(kind);
        }
    }));
    handler.install(&mut options);
    let client = mongodb::Client::with_options(options).expect("client");
    let db = client.database(&env::unique_name("otel_mongo_cmap_chain"));
    db.collection::<Document>("c")
        .insert_one(doc! { "x": 1 })
        .await
        .expect("insert");
    // The pool's task checks the connection in after the operation returned.
    let deadline = Instant::now() + Duration::from_secs(1);
    while seen.lock().expect("events").len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(*seen.lock().expect("events"), ["checked out", "checked in"]);
    t.span("insert c").assert_unset();
    assert_eq!(handler.in_flight(), 0);
    let _ = db.drop().await;
}
