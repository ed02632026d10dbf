//! Failed commands, and write errors hidden in successful replies.

use crate::common;

use std::sync::{Arc, Mutex};

use common::{assert_attrs_exactly, db_attrs};
use mongodb::bson::{Bson, Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::ClientOptions;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::InstrumentationOptions as _;
use otel_testkit::{SpanAssert, TestTelemetry, env};

/// A server error: status Error described by the code's name from the static table (never
/// the server's text), the code as `error.type` and `db.response.status_code`.
fn assert_server_error(span: &otel_testkit::ExportedSpan, code: &str, name: Option<&str>) {
    // A response code, not an exception.
    span.assert_kind(SpanKind::Client)
        .assert_error()
        .assert_no_exception();
    span.assert_attr(a::DB_RESPONSE_STATUS_CODE, code.to_string())
        .assert_attr(a::ERROR_TYPE, code.to_string());
    match name {
        Some(name) => assert_eq!(
            span.status,
            opentelemetry::trace::Status::error(name.to_string())
        ),
        None => assert!(matches!(
            span.status,
            opentelemetry::trace::Status::Error { .. }
        )),
    }
}

#[tokio::test]
async fn duplicate_id_on_insert_one_is_an_error_with_code_11000() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("users");
    let secret = "dup-key-hunter2";
    let result = f
        .in_span("caller", async {
            coll.insert_one(doc! { "_id": secret })
                .await
                .expect("first");
            coll.insert_one(doc! { "_id": secret }).await
        })
        .await;
    assert!(result.is_err(), "the second insert must fail");

    let caller = f.span("caller");
    let spans = f.t.spans_named("insert users");
    assert_eq!(spans.len(), 2);
    spans[0].assert_child_of(&caller).assert_unset();
    let failed = &spans[1];
    failed.assert_child_of(&caller);
    assert_server_error(failed, "11000", Some("DuplicateKey"));
    assert_attrs_exactly(
        failed,
        &db_attrs(
            &f,
            "insert",
            Some("users"),
            &[
                (
                    a::DB_QUERY_TEXT,
                    r#"{"insert": "users", "ordered": ?, "documents": [?]}"#.into(),
                ),
                (a::DB_RESPONSE_STATUS_CODE, "11000".into()),
                (a::ERROR_TYPE, "11000".into()),
            ],
        ),
    );
    // The server's errmsg quotes the key: it must not be exported.
    for span in f.t.spans() {
        assert!(!span.all_text().contains(secret), "{}", span.all_text());
    }
    let failed_metric =
        f.t.histogram("db.client.operation.duration")
            .into_iter()
            .find(|p| p.attr(a::ERROR_TYPE).as_deref() == Some("11000"))
            .expect("failure measured with its error.type");
    assert_eq!(failed_metric.count, 1);
    f.cleanup().await;
}

#[tokio::test]
async fn duplicate_in_insert_many_marks_the_batch_failed() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("users");
    let result = f
        .in_span("caller", async {
            coll.insert_many([doc! { "_id": 1 }, doc! { "_id": 1 }, doc! { "_id": 2 }])
                .await
        })
        .await;
    assert!(result.is_err());
    let span = f.span("insert users");
    // Three documents are operands of one insert, not a batch.
    span.assert_child_of(&f.span("caller"))
        .assert_no_attr(a::DB_OPERATION_BATCH_SIZE);
    assert_server_error(&span, "11000", Some("DuplicateKey"));
    f.cleanup().await;
}

/// A command name that is not an identifier is client-chosen text: recorded as `_OTHER`, with
/// no summary (an identifier-shaped unlisted name is recorded, see `tests/details.rs`).
#[tokio::test]
async fn unknown_command_fails_with_its_code_under_other() {
    let f = common::fixture().await;
    let result = f
        .in_span("caller", async {
            f.db.run_command(doc! { "no such command": 1 }).await
        })
        .await;
    assert!(result.is_err());
    let span = f.span(&format!("_OTHER {}", f.db_name));
    span.assert_child_of(&f.span("caller"));
    assert_server_error(&span, "59", Some("CommandNotFound"));
    assert_attrs_exactly(
        &span,
        &[
            (a::DB_SYSTEM_NAME, "mongodb".into()),
            (a::DB_NAMESPACE, f.db_name.clone().into()),
            (a::DB_OPERATION_NAME, "_OTHER".into()),
            (a::SERVER_ADDRESS, "127.0.0.1".into()),
            (a::SERVER_PORT, 27017_i64.into()),
            (a::DB_QUERY_TEXT, r#"{"_OTHER": ?}"#.into()),
            (a::DB_RESPONSE_STATUS_CODE, "59".into()),
            (a::ERROR_TYPE, "59".into()),
        ],
    );
    assert_eq!(f.handler.in_flight(), 0);
}

/// How the driver reports a duplicate key on `insert_one`: a *succeeded* command event whose
/// reply carries `writeErrors` (this is why the handler inspects successful replies). Also
/// shows that a handler installed before ours keeps receiving every event.
#[tokio::test]
async fn duplicate_key_arrives_as_a_succeeded_event_and_previous_handlers_still_get_events() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let seen: Arc<Mutex<Vec<CommandEvent>>> = Arc::default();
    let mut options = ClientOptions::parse(&uri).await.expect("uri");
    let sink = Arc::clone(&seen);
    options.command_event_handler = Some(EventHandler::callback(move |ev| {
        if let Ok(mut seen) = sink.lock() {
            seen.push(ev);
        }
    }));
    handler.install(&mut options);
    let client = mongodb::Client::with_options(options).expect("client");
    let db_name = env::unique_name("otel_mongo_chain");
    let coll = client.database(&db_name).collection::<Document>("c");
    coll.insert_one(doc! { "_id": 1 }).await.expect("first");
    assert!(coll.insert_one(doc! { "_id": 1 }).await.is_err());

    let events = seen.lock().expect("events").clone();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            CommandEvent::Started(_) => "started",
            CommandEvent::Succeeded(_) => "succeeded",
            CommandEvent::Failed(_) => "failed",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["started", "succeeded", "started", "succeeded"]);
    let CommandEvent::Succeeded(dup) = &events[3] else {
        unreachable!()
    };
    let code = dup
        .reply
        .get_array("writeErrors")
        .ok()
        .and_then(|e| e.first())
        .and_then(Bson::as_document)
        .and_then(|e| e.get("code"))
        .cloned();
    assert_eq!(code, Some(Bson::Int32(11000)));
    assert_eq!(t.spans_named("insert c").len(), 2);
    assert!(matches!(
        t.spans_named("insert c")[1].status,
        opentelemetry::trace::Status::Error { .. }
    ));
    let _ = client.database(&db_name).drop().await;
}

/// The server's `errmsg` is recorded only on request, scrubbed: the quoted key it prints is
/// gone, the rest of the message stays.
#[tokio::test]
async fn scrubbed_error_text_is_opt_in_and_drops_quoted_values() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .error_text(otel_mongo::ErrorTextMode::Scrubbed)
        .build();
    let f = common::fixture_with(t, handler).await;
    let coll = f.db.collection::<Document>("users");
    let secret = "dup-key-Tr0ub4dor";
    coll.insert_one(doc! { "_id": secret })
        .await
        .expect("first");
    assert!(coll.insert_one(doc! { "_id": secret }).await.is_err());
    let failed = &f.t.spans_named("insert users")[1];
    failed.assert_attr(a::ERROR_TYPE, "11000");
    let opentelemetry::trace::Status::Error { description } = &failed.status else {
        panic!("{:?}", failed.status)
    };
    assert!(description.contains("duplicate key"), "{description}");
    assert!(f.t.leaks(secret).is_empty(), "{:?}", f.t.leaks(secret));
    f.cleanup().await;
}
