//! Cancellation: futures dropped mid-operation (a `tokio::time::timeout` shorter than the
//! operation, or an aborted task) still end their span exactly once, as `cancelled`
//! (`otel_rpc::Outcome::Cancelled`: status Error, `error.type = cancelled`), and leave no state
//! behind: the connection or pool keeps working, Mongo's in-flight map empties.

use crate::reliability_common;

use std::time::Duration;

use mongodb::bson::{Document, doc};
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::Outcome;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};
use reliability_common as common;

const TINY: Duration = Duration::from_millis(100);

fn assert_cancelled(span: &ExportedSpan) {
    assert!(
        common::is_error(span),
        "{:?} should be Error: {:?}",
        span.name,
        span.status
    );
    span.assert_attr(attribute::ERROR_TYPE, Outcome::CANCELLED_ERROR_TYPE);
}

#[tokio::test]
async fn redis_blpop_dropped_by_a_timeout_ends_cancelled_and_the_connection_keeps_working() {
    let t = TestTelemetry::new();
    let mut conn = common::redis(&t).await;
    let key = otel_testkit::env::unique_name("cancel:list");

    let blpop = redis::cmd("BLPOP").arg(&key).arg(1).clone();
    let res = tokio::time::timeout(
        TINY,
        blpop.query_async::<Option<(String, String)>>(&mut conn),
    )
    .await;
    assert!(res.is_err(), "BLPOP should have been cut by the timeout");

    let spans = t.spans();
    assert_eq!(spans.len(), 1, "{}", otel_testkit::describe(&spans));
    assert_cancelled(&spans[0]);
    spans[0]
        .assert_kind(SpanKind::Client)
        .assert_attr(attribute::DB_OPERATION_NAME, "BLPOP");

    // The connection still answers (after the abandoned BLPOP's own reply).
    let pong: String = redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .expect("PING");
    assert_eq!(pong, "PONG");
    let ping = t.span("PING");
    ping.assert_unset();
    assert_eq!(t.spans().len(), 2);
}

#[tokio::test]
async fn postgres_pg_sleep_dropped_by_a_timeout_ends_cancelled_and_the_pool_keeps_working() {
    let t = TestTelemetry::new();
    let pool = common::postgres(&t, 2).await;

    let res = tokio::time::timeout(TINY, sqlx::query("SELECT pg_sleep(1)").execute(&pool)).await;
    assert!(
        res.is_err(),
        "pg_sleep(1) should have been cut by the timeout"
    );
    let spans = t.spans();
    assert_eq!(spans.len(), 1, "{}", otel_testkit::describe(&spans));
    assert_cancelled(&spans[0]);
    spans[0]
        .assert_attr(attribute::DB_SYSTEM_NAME, "postgresql")
        // SQL: no operation name parsed out of the text; the summary carries it.
        .assert_attr(attribute::DB_QUERY_SUMMARY, "SELECT")
        .assert_no_attr(attribute::DB_OPERATION_NAME);

    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&pool)
        .await
        .expect("SELECT 1");
    assert_eq!(one, 1);
    let spans = t.spans();
    assert_eq!(spans.len(), 2, "{}", otel_testkit::describe(&spans));
    assert!(!common::is_error(&spans[1]), "{:?}", spans[1]);
}

#[tokio::test]
async fn sqlite_query_dropped_before_completion_ends_cancelled() {
    let t = TestTelemetry::new();
    let pool = common::sqlite(&t).await;
    // A recursive CTE that counts to 50 million: seconds of work in debug builds.
    let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT count(*) FROM c";
    let res = tokio::time::timeout(TINY, sqlx::query_scalar::<_, i64>(slow).fetch_one(&pool)).await;
    assert!(res.is_err(), "the CTE should have been cut by the timeout");
    let spans = t.spans();
    assert_eq!(spans.len(), 1, "{}", otel_testkit::describe(&spans));
    assert_cancelled(&spans[0]);
}

#[tokio::test]
async fn mongo_command_abandoned_mid_flight_ends_cancelled_and_in_flight_returns_to_zero() {
    let t = TestTelemetry::new();
    // The default 5-minute reply timeout: the span must be ended by the connection's check-in,
    // not by the timeout.
    let handler = common::mongo_handler(&t);
    let (_client, db) = common::mongo(&handler).await;
    let coll = db.collection::<Document>("slow");
    // A large insert: long enough on FerretDB to be abandoned while in flight.
    let docs: Vec<Document> = (0..20_000i64)
        .map(|i| doc! { "i": i, "pad": "x".repeat(64) })
        .collect();
    let task = tokio::spawn({
        let coll = coll.clone();
        async move { coll.insert_many(docs).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while handler.in_flight() == 0 && tokio::time::Instant::now() < deadline && !task.is_finished()
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        !task.is_finished(),
        "the insert finished before it could be abandoned"
    );
    task.abort();
    let _ = task.await;
    let aborted_at = tokio::time::Instant::now();

    // The pool checks the abandoned connection in and the handler ends the span: no sweep.
    while handler.in_flight() > 0 && aborted_at.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ended_after = aborted_at.elapsed();
    assert_eq!(
        handler.in_flight(),
        0,
        "in-flight state leaked ({ended_after:?} after the abort)"
    );
    assert_eq!(handler.lost_replies(), 0);
    let inserts = t.spans_named("insert slow");
    assert_eq!(inserts.len(), 1, "{}", otel_testkit::describe(&t.spans()));
    assert_cancelled(&inserts[0]);
    eprintln!("mongo abandoned insert: ended as cancelled {ended_after:?} after the abort");

    // A later operation succeeds and leaves nothing in flight.
    coll.insert_one(doc! { "after": 1 })
        .await
        .expect("insert after abort");
    assert_eq!(handler.in_flight(), 0);
    common::drop_mongo_db(&db).await;
}

#[tokio::test]
async fn http_request_dropped_by_a_timeout_ends_client_and_server_spans_cancelled() {
    let t = TestTelemetry::new();
    let addr = common::http_server(&t).await;
    let client = common::http_client(&t);
    let res = tokio::time::timeout(
        TINY,
        common::http_get(&client, &format!("http://{addr}/slow"), &[]),
    )
    .await;
    assert!(
        res.is_err(),
        "GET /slow should have been cut by the timeout"
    );

    let spans = common::wait_for_spans(&t, Duration::from_secs(3), |s| s.len() >= 2).await;
    assert_eq!(spans.len(), 2, "{}", otel_testkit::describe(&spans));
    let client_span = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .expect("client");
    let server_span = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .expect("server");
    assert_cancelled(client_span);
    server_span.assert_child_of(client_span);
    assert_eq!(server_span.name, "GET /slow");
    assert_cancelled(server_span);
    // Ended when the client went away, not after the handler's full second.
    let server_duration = server_span
        .end_time
        .duration_since(server_span.start_time)
        .expect("end after start");
    assert!(
        server_duration < common::SLOW,
        "server span lasted {server_duration:?}"
    );
}

#[tokio::test]
async fn grpc_call_dropped_by_a_timeout_ends_client_and_server_spans_cancelled() {
    let t = TestTelemetry::new();
    let addr = common::grpc_server(&t).await;
    let mut client = common::grpc_client(&t, addr).await;
    let res = tokio::time::timeout(TINY, client.say(common::echo("slow"))).await;
    assert!(
        res.is_err(),
        "the slow call should have been cut by the timeout"
    );

    let spans = common::wait_for_spans(&t, Duration::from_secs(3), |s| s.len() >= 2).await;
    assert_eq!(spans.len(), 2, "{}", otel_testkit::describe(&spans));
    let client_span = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .expect("client");
    let server_span = spans
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .expect("server");
    assert_eq!(client_span.name, "echo.Echo/Say");
    assert_cancelled(client_span);
    server_span.assert_child_of(client_span);
    assert_cancelled(server_span);
    let server_duration = server_span
        .end_time
        .duration_since(server_span.start_time)
        .expect("end after start");
    assert!(
        server_duration < common::SLOW,
        "server span lasted {server_duration:?}"
    );

    // The channel is still usable.
    let reply = client.say(common::echo("after")).await.expect("reply");
    assert_eq!(reply.into_inner().message, "after");
}
