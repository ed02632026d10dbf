//! The correlation state machine: lost replies, capacity, background commands, sampling.
//! Events are fed through the handler's entry points (`on_started`, ...), exactly as the driver
//! adapter does after its thin mapping, because the driver's event types cannot be built
//! outside the driver.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::{ClientOptions, ServerAddress};
use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt, Tracer};
use opentelemetry_sdk::trace::Sampler;
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::InstrumentationOptions as _;
use otel_mongo::{
    BackgroundCommands, CommandFailure, CommandKey, FailedCommand, OtelCommandHandler,
    REPLY_LOST_ERROR_TYPE, StartedCommand, SucceededCommand,
};
use otel_testkit::{SpanAssert, TestTelemetry, env};

fn started(request_id: i32) -> StartedCommand {
    StartedCommand::new(
        CommandKey::new(7, request_id),
        "shop",
        "find",
        doc! { "find": "orders", "filter": { "user": "alice" } },
    )
    .with_server("db.internal", Some(27017))
}

fn on_connection(connection_id: u32, request_id: i32) -> StartedCommand {
    StartedCommand::new(
        CommandKey::new(connection_id, request_id),
        "shop",
        "find",
        doc! { "find": "orders" },
    )
    .with_server("db.internal", Some(27017))
}

/// Runs `f` with a fresh test span as the current context; returns that span's context.
fn with_parent(t: &TestTelemetry, name: &'static str, f: impl FnOnce()) -> Context {
    let cx = Context::current_with_span(t.tracer("test").start(name));
    {
        let _guard = cx.clone().attach();
        f();
    }
    cx.span().end();
    cx
}

#[test]
fn started_then_succeeded_ends_at_start_plus_duration() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    with_parent(&t, "caller", || handler.on_started(started(1)));
    assert_eq!(handler.in_flight(), 1);
    handler.on_succeeded(SucceededCommand::new(
        CommandKey::new(7, 1),
        Duration::from_millis(250),
        doc! { "ok": 1 },
    ));
    assert_eq!(handler.in_flight(), 0);
    let span = t.span("find orders");
    span.assert_kind(SpanKind::Client)
        .assert_child_of(&t.span("caller"))
        .assert_unset()
        .assert_attr(a::SERVER_ADDRESS, "db.internal")
        .assert_attr(a::SERVER_PORT, 27017_i64)
        .assert_attr(a::DB_NAMESPACE, "shop")
        .assert_attr(
            a::DB_QUERY_TEXT,
            r#"{"find": "orders", "filter": {"user": ?}}"#,
        );
    assert_eq!(
        span.end_time.duration_since(span.start_time).ok(),
        Some(Duration::from_millis(250))
    );
    let point = &t.histogram("db.client.operation.duration")[0];
    assert!((point.sum - 0.25).abs() < 1e-9, "{}", point.sum);
}

#[test]
fn failed_event_records_the_classified_failure() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    handler.on_started(started(2));
    handler.on_failed(FailedCommand::new(
        CommandKey::new(7, 2),
        Duration::from_millis(3),
        CommandFailure::other("Io", "connection reset by peer"),
    ));
    // A driver error is an exception (typed by its kind); its text stays out by default.
    let span = t.span("find orders");
    span.assert_error()
        .assert_exception()
        .assert_attr(a::ERROR_TYPE, "Io")
        .assert_no_attr(a::DB_RESPONSE_STATUS_CODE);
    assert_eq!(span.status, opentelemetry::trace::Status::error(""));
    assert!(t.leaks("connection reset").is_empty());
    assert_eq!(handler.in_flight(), 0);
}

/// Under the scrubbed opt-in the driver error's text is the description, digits and quoted
/// runs replaced.
#[test]
fn driver_error_text_is_recorded_scrubbed_only_on_request() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .error_text(otel_mongo::ErrorTextMode::Scrubbed)
        .build();
    handler.on_started(started(2));
    handler.on_failed(FailedCommand::new(
        CommandKey::new(7, 2),
        Duration::from_millis(3),
        CommandFailure::other("Io", "connection to 10.1.2.3:27017 reset, user 'alice'"),
    ));
    let span = t.span("find orders");
    span.assert_exception();
    let opentelemetry::trace::Status::Error { description } = &span.status else {
        panic!("{:?}", span.status)
    };
    assert!(description.contains("reset"), "{description}");
    assert!(
        !description.contains("alice") && !description.contains("10.1.2.3"),
        "{description}"
    );
}

#[test]
fn a_lost_reply_is_ended_as_an_error_after_the_timeout() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .reply_timeout(Duration::from_millis(20))
        .build();
    let swallowed_before = otel_rpc::swallowed_errors();
    with_parent(&t, "caller", || handler.on_started(started(3)));
    assert_eq!(handler.in_flight(), 1);
    assert_eq!(handler.sweep(), 0, "not yet expired");
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(handler.sweep(), 1);
    assert_eq!(handler.in_flight(), 0);
    assert_eq!(handler.lost_replies(), 1);
    assert!(otel_rpc::swallowed_errors() > swallowed_before);

    let span = t.span("find orders");
    span.assert_child_of(&t.span("caller"))
        .assert_error()
        .assert_attr(a::ERROR_TYPE, REPLY_LOST_ERROR_TYPE);
    // A reply arriving after all is ignored.
    handler.on_succeeded(SucceededCommand::new(
        CommandKey::new(7, 3),
        Duration::from_millis(1),
        doc! { "ok": 1 },
    ));
    assert_eq!(t.spans_named("find orders").len(), 1);
}

#[test]
fn expired_entries_are_ended_lazily_by_later_commands() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .reply_timeout(Duration::from_millis(20))
        .build();
    handler.on_started(started(4));
    std::thread::sleep(Duration::from_millis(40));
    // Any later command triggers the sweep.
    handler.on_started(started(5));
    assert_eq!(handler.lost_replies(), 1);
    assert_eq!(handler.in_flight(), 1);
    let lost = t.span("find orders");
    lost.assert_error()
        .assert_attr(a::ERROR_TYPE, REPLY_LOST_ERROR_TYPE);
}

#[test]
fn check_in_ends_only_that_connections_unanswered_commands_as_cancelled() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let db = ServerAddress::Tcp {
        host: "db.internal".into(),
        port: None,
    };
    // Answered before the check-in: untouched by it.
    handler.on_started(on_connection(7, 1));
    handler.on_succeeded(SucceededCommand::new(
        CommandKey::new(7, 1),
        Duration::from_millis(1),
        doc! { "ok": 1 },
    ));
    handler.on_started(on_connection(7, 2)); // abandoned
    handler.on_started(on_connection(8, 3)); // another connection, same server
    handler.on_started(on_connection(23, 4)); // same shard (23 % 16 == 7), other connection
    handler.on_started(
        StartedCommand::new(
            CommandKey::new(7, 5),
            "shop",
            "find",
            doc! { "find": "orders" },
        )
        .with_server("other.internal", Some(27017)),
    ); // same connection id, other server
    let other_port = ServerAddress::Tcp {
        host: "db.internal".into(),
        port: Some(27018),
    };
    assert_eq!(handler.on_connection_checked_in(&other_port, 7), 0);
    assert_eq!(handler.on_connection_checked_in(&db, 7), 1);
    assert_eq!(handler.on_connection_checked_in(&db, 7), 0);
    assert_eq!(handler.in_flight(), 3);
    assert_eq!(handler.lost_replies(), 0);
    let spans = t.spans_named("find orders");
    assert_eq!(spans.len(), 2);
    spans[0].assert_unset();
    spans[1]
        .assert_error()
        .assert_attr(a::ERROR_TYPE, otel_rpc::Outcome::CANCELLED_ERROR_TYPE);
    // The survivors still end normally.
    for (connection_id, request_id) in [(8, 3), (23, 4), (7, 5)] {
        handler.on_succeeded(SucceededCommand::new(
            CommandKey::new(connection_id, request_id),
            Duration::from_millis(1),
            doc! { "ok": 1 },
        ));
    }
    assert_eq!(handler.in_flight(), 0);
    let spans = t.spans_named("find orders");
    assert_eq!(spans.len(), 5);
    assert_eq!(
        spans
            .iter()
            .filter(|s| s.attr(a::ERROR_TYPE).is_some())
            .count(),
        1
    );
}

#[test]
fn capacity_evicts_the_oldest_and_memory_stays_bounded() {
    let t = TestTelemetry::new();
    // Two shards of one entry; entries are sharded by connection, so spread them over ten.
    let handler = common::builder(&t).max_in_flight(2).build();
    for request_id in 0..10 {
        handler.on_started(on_connection(request_id as u32, request_id));
        assert!(handler.in_flight() <= 2);
    }
    assert_eq!(handler.in_flight(), 2);
    assert_eq!(handler.lost_replies(), 8);
    let spans = t.spans_named("find orders");
    assert_eq!(spans.len(), 8);
    for span in &spans {
        span.assert_error()
            .assert_attr(a::ERROR_TYPE, REPLY_LOST_ERROR_TYPE);
    }
    // The survivors are the two newest.
    for request_id in [8, 9] {
        handler.on_succeeded(SucceededCommand::new(
            CommandKey::new(request_id as u32, request_id),
            Duration::from_millis(1),
            doc! { "ok": 1 },
        ));
    }
    assert_eq!(handler.in_flight(), 0);
    assert_eq!(t.spans_named("find orders").len(), 10);
}

#[test]
fn authentication_commands_have_no_body_anywhere() {
    let t = TestTelemetry::new();
    let hook_saw: Arc<Mutex<Vec<Document>>> = Arc::default();
    let sink = Arc::clone(&hook_saw);
    let handler = common::builder(&t)
        .query_text(otel_mongo::QueryTextMode::Raw)
        .attributes(move |cmd, _| {
            if let Ok(mut saw) = sink.lock() {
                saw.push(cmd.command.clone());
            }
        })
        .build();
    let secret = "c2VjcmV0LXBhc3N3b3Jk";
    let commands = [
        (
            "saslStart",
            doc! { "saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": secret },
        ),
        (
            "hello",
            doc! { "hello": 1, "speculativeAuthenticate": { "saslStart": 1, "payload": secret } },
        ),
    ];
    for (i, (name, command)) in commands.into_iter().enumerate() {
        let key = CommandKey::new(1, 100 + i as i32);
        handler.on_started(StartedCommand::new(key, "admin", name, command));
        handler.on_succeeded(SucceededCommand::new(
            key,
            Duration::from_millis(1),
            Document::new(),
        ));
    }
    for name in ["saslStart", "hello"] {
        let span = t.span(&format!("{name} admin"));
        span.assert_no_attr(a::DB_QUERY_TEXT)
            .assert_attr(a::DB_OPERATION_NAME, name);
        assert!(!span.all_text().contains(secret));
    }
    let saw = hook_saw.lock().expect("hook");
    assert_eq!(saw.len(), 2);
    assert!(saw.iter().all(Document::is_empty), "{saw:?}");
}

#[tokio::test]
async fn unsampled_commands_build_no_details_but_are_measured() {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::with_sampler(Sampler::AlwaysOff);
    let details = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&details);
    let handler = common::builder(&t)
        .attributes(move |_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .build();
    let f = common::fixture_with(t, handler).await;
    let coll = f.db.collection::<Document>("c");
    f.in_span("caller", async {
        for i in 0..5 {
            coll.insert_one(doc! { "i": i }).await.expect("insert");
        }
    })
    .await;
    assert!(f.t.spans().is_empty());
    assert_eq!(
        details.load(Ordering::Relaxed),
        0,
        "no details for unsampled spans"
    );
    assert_eq!(f.handler.in_flight(), 0);
    let points = f.t.histogram("db.client.operation.duration");
    let inserts: u64 = points
        .iter()
        .filter(|p| p.attr(a::DB_OPERATION_NAME).as_deref() == Some("insert"))
        .map(|p| p.count)
        .sum();
    assert_eq!(inserts, 5);
    f.cleanup().await;
}

/// Observes every command event the driver emits, next to the handler.
fn observed_client(
    handler: &OtelCommandHandler,
    options: &mut ClientOptions,
) -> Arc<Mutex<Vec<String>>> {
    let names: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&names);
    options.command_event_handler = Some(EventHandler::callback(move |ev| {
        if let (CommandEvent::Started(s), Ok(mut names)) = (ev, sink.lock()) {
            names.push(s.command_name);
        }
    }));
    handler.install(options);
    names
}

async fn drop_an_open_cursor(mode: BackgroundCommands) -> (TestTelemetry, String) {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let t = TestTelemetry::new();
    let handler = common::builder(&t).background_commands(mode).build();
    let mut options = ClientOptions::parse(&uri).await.expect("uri");
    let names = observed_client(&handler, &mut options);
    let client = mongodb::Client::with_options(options).expect("client");
    let db_name = env::unique_name("otel_mongo_bg");
    let coll = client.database(&db_name).collection::<Document>("items");
    coll.insert_many((0..5).map(|i| doc! { "_id": i }))
        .await
        .expect("seed");
    let cx = Context::current_with_span(t.tracer("test").start("caller"));
    async {
        let mut cursor = coll.find(doc! {}).batch_size(2).await.expect("find");
        assert!(cursor.advance().await.expect("advance"));
        drop(cursor); // the driver kills the cursor from a background task
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    let killed = || {
        names
            .lock()
            .map(|n| n.iter().any(|c| c == "killCursors"))
            .unwrap_or(false)
    };
    for _ in 0..200 {
        if killed() && handler.in_flight() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(killed(), "the driver sent killCursors");
    assert_eq!(handler.in_flight(), 0);
    let _ = client.database(&db_name).drop().await;
    (t, db_name)
}

#[tokio::test]
async fn background_kill_cursors_are_skipped_by_default() {
    let (t, _) = drop_an_open_cursor(BackgroundCommands::default()).await;
    assert!(t.spans_named("killCursors items").is_empty());
    t.span("find items").assert_child_of(&t.span("caller"));
}

#[tokio::test]
async fn background_kill_cursors_can_be_root_spans() {
    let (t, db_name) = drop_an_open_cursor(BackgroundCommands::Root).await;
    let kill = t.span("killCursors items");
    assert_eq!(
        kill.parent_span_id,
        SpanId::INVALID,
        "no caller: a root span"
    );
    kill.assert_kind(SpanKind::Client)
        .assert_attr(a::DB_NAMESPACE, db_name)
        .assert_attr(
            a::DB_QUERY_TEXT,
            r#"{"killCursors": "items", "cursors": [?]}"#,
        );
}

/// With the `logs` exception signal a driver error becomes a `db.client.operation.exception`
/// log record instead of a span event; a server error code makes none.
#[test]
fn exception_signal_logs_moves_driver_errors_to_log_records() {
    use otel_rpc::ExceptionSignal;
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .logger_provider(t.logger_provider.clone())
        .exception_signal(ExceptionSignal::Logs)
        .build();
    handler.on_started(started(2));
    handler.on_failed(FailedCommand::new(
        CommandKey::new(7, 2),
        Duration::from_millis(3),
        CommandFailure::other("Io", "connection reset by peer"),
    ));
    handler.on_started(started(3));
    handler.on_failed(FailedCommand::new(
        CommandKey::new(7, 3),
        Duration::from_millis(3),
        CommandFailure::server(11000),
    ));
    for span in t.spans_named("find orders") {
        span.assert_error().assert_no_exception();
    }
    let logs = t.logs();
    let names: Vec<_> = logs.iter().map(|r| r.event_name()).collect();
    assert_eq!(names, [Some("db.client.operation.exception")]);
    assert!(t.leaks("connection reset").is_empty());
}

/// The direct entry points (`on_started`, ...) belong to no installed client, so no
/// configuration: `server.address` / `server.port` are the connection's, even after the
/// handler was installed into a client configured with another host (that client's spans
/// carry its configured address: `tests/clients.rs`); the check-in of that server ends its
/// abandoned commands.
#[test]
fn direct_entry_points_record_the_connections_server() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).build();
    let mut options = ClientOptions::default();
    options.hosts = vec![ServerAddress::Tcp {
        host: "db.example.test".into(),
        port: Some(27018),
    }];
    handler.install(&mut options);
    handler.on_started(started(1)); // connection to db.internal:27017
    let ended = handler.on_connection_checked_in(
        &ServerAddress::Tcp {
            host: "db.internal".into(),
            port: Some(27017),
        },
        7,
    );
    assert_eq!(ended, 1);
    t.span("find orders")
        .assert_attr(a::SERVER_ADDRESS, "db.internal")
        .assert_attr(a::SERVER_PORT, 27017_i64);
    let points = t.histogram("db.client.operation.duration");
    assert_eq!(
        points[0].attr(a::SERVER_ADDRESS).as_deref(),
        Some("db.internal")
    );
}
