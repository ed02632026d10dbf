//! Pipelines and atomic pipelines (MULTI/EXEC): one span each, with summary, batch size and
//! per-command failures.

use crate::common;

use opentelemetry::context::FutureExt;
use opentelemetry_semantic_conventions::attribute;
use otel_redis::PIPELINE_FAILED_COMMANDS;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry, env::unique_name};
use redis::AsyncCommands;

use common::{end_parent, parent_context, server_of, traced};

fn assert_batch_span(
    span: &ExportedSpan,
    client: &redis::Client,
    operation: &str,
    summary: &str,
    batch: i64,
) {
    let (host, port) = server_of(client);
    assert_eq!(span.name, summary);
    span.assert_kind(opentelemetry::trace::SpanKind::Client)
        .assert_attr(attribute::DB_SYSTEM_NAME, "redis")
        .assert_attr(attribute::DB_OPERATION_NAME, operation.to_string())
        .assert_attr(attribute::DB_QUERY_SUMMARY, summary.to_string())
        .assert_attr(attribute::DB_OPERATION_BATCH_SIZE, batch)
        .assert_attr(attribute::DB_NAMESPACE, "0")
        .assert_attr(attribute::SERVER_ADDRESS, host)
        .assert_attr(attribute::SERVER_PORT, port);
}

#[tokio::test]
async fn pipeline_is_one_span() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let a = unique_name("otel_redis_pipe_a");
    let b = unique_name("otel_redis_pipe_b");
    let cx = parent_context(&t, "parent");
    let (got, n): (String, i64) = redis::pipe()
        .set(&a, "pipeline-value-1")
        .ignore()
        .get(&a)
        .set(&b, "pipeline-value-2")
        .ignore()
        .get(&a)
        .ignore()
        .del(&[&a, &b])
        .query_async(&mut conn)
        .with_context(cx.clone())
        .await
        .unwrap();
    assert_eq!((got.as_str(), n), ("pipeline-value-1", 2));
    let parent = end_parent(&t, &cx, "parent");

    assert_eq!(t.spans().len(), 2, "one pipeline span + parent");
    let span = t.span("PIPELINE");
    assert_batch_span(&span, &client, "PIPELINE", "PIPELINE", 5);
    span.assert_unset()
        .assert_child_of(&parent)
        .assert_no_attr(PIPELINE_FAILED_COMMANDS)
        .assert_attr(
            attribute::DB_QUERY_TEXT,
            format!("SET {a} ?; GET {a}; SET {b} ?; GET {a}; DEL {a} {b}"),
        );
    assert!(!span.all_text().contains("pipeline-value"));

    // The pipeline counts once in the duration histogram.
    let points = t.histogram("db.client.operation.duration");
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
    assert_eq!(
        points[0].attr(attribute::DB_OPERATION_NAME).as_deref(),
        Some("PIPELINE")
    );
    assert_eq!(
        points[0].attr(attribute::DB_QUERY_SUMMARY).as_deref(),
        Some("PIPELINE")
    );
}

#[tokio::test]
async fn atomic_pipeline_is_named_multi() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_multi");
    let (x, y, _): (i64, i64, i64) = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .incr(&key, 2)
        .del(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!((x, y), (1, 3));
    let span = t.span("MULTI");
    assert_batch_span(&span, &client, "MULTI", "MULTI", 3);
    span.assert_unset().assert_attr(
        attribute::DB_QUERY_TEXT,
        format!("INCRBY {key} ?; INCRBY {key} ?; DEL {key}"),
    );
    assert_eq!(t.spans().len(), 1);
}

#[tokio::test]
async fn failing_command_inside_a_pipeline() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_pipe_fail");
    let () = conn.set(&key, "a string").await.unwrap();
    t.reset();

    let err = redis::pipe()
        .get(&key)
        .hset(&key, "field", "value")
        .lpush(&key, "value")
        .query_async::<(String, i64, i64)>(&mut conn)
        .await
        .unwrap_err();
    // redis-rs reports per-command failures as a pipeline error listing them.
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");

    let span = t.span("PIPELINE");
    assert_batch_span(&span, &client, "PIPELINE", "PIPELINE", 3);
    span.assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_attr(attribute::ERROR_TYPE, "WRONGTYPE")
        .assert_attr(PIPELINE_FAILED_COMMANDS, 2);
    let _: i64 = conn.del(&key).await.unwrap();
}

#[tokio::test]
async fn failing_command_inside_a_transaction() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_multi_fail");
    let () = conn.set(&key, "a string").await.unwrap();
    t.reset();

    // WRONGTYPE happens at EXEC time: the error is inside EXEC's reply array.
    let err = redis::pipe()
        .atomic()
        .get(&key)
        .hset(&key, "field", "value")
        .query_async::<(String, i64)>(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    let span = t.span("MULTI");
    assert_batch_span(&span, &client, "MULTI", "MULTI", 2);
    span.assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_attr(attribute::ERROR_TYPE, "WRONGTYPE")
        .assert_attr(PIPELINE_FAILED_COMMANDS, 1);
    t.reset();

    // An unknown command is rejected while queuing: EXEC answers EXECABORT and redis-rs fails
    // the whole call.
    let err = redis::pipe()
        .atomic()
        .get(&key)
        .cmd("NOSUCHCOMMAND")
        .arg("x")
        .query_async::<(String, i64)>(&mut conn)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("EXECABORT"));
    let span = t.span("MULTI");
    assert_batch_span(&span, &client, "MULTI", "MULTI", 2);
    span.assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "EXECABORT")
        .assert_attr(attribute::ERROR_TYPE, "EXECABORT")
        .assert_attr(PIPELINE_FAILED_COMMANDS, 1);
    let message = match &span.status {
        opentelemetry::trace::Status::Error { description } => description.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(
        message.contains("index 1") && message.contains("ERR"),
        "{message}"
    );
    let _: i64 = conn.del(&key).await.unwrap();
}

#[tokio::test]
async fn ignore_errors_pipeline_still_reports_failures() {
    let t = TestTelemetry::new();
    let (_client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_pipe_ignore");
    let () = conn.set(&key, "a string").await.unwrap();
    t.reset();
    let results: Vec<redis::RedisResult<redis::Value>> = redis::pipe()
        .get(&key)
        .hset(&key, "f", "v")
        .ignore_errors()
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(results[0].is_ok() && results[1].is_err());
    t.span("PIPELINE")
        .assert_error()
        .assert_attr(attribute::DB_RESPONSE_STATUS_CODE, "WRONGTYPE")
        .assert_attr(PIPELINE_FAILED_COMMANDS, 1);
    let _: i64 = conn.del(&key).await.unwrap();
}

#[tokio::test]
async fn batches_of_one_command_are_named_after_it() {
    let t = TestTelemetry::new();
    let (client, mut conn) = traced(&t).await;
    let key = unique_name("otel_redis_pipe_same");
    let mut pipe = redis::pipe();
    for _ in 0..13 {
        pipe.get(&key);
    }
    let _: redis::Value = pipe.query_async(&mut conn).await.unwrap();
    let _: (i64, i64) = redis::pipe()
        .atomic()
        .incr(&key, 1)
        .incr(&key, 2)
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: i64 = conn.del(&key).await.unwrap();
    assert_batch_span(
        &t.span("PIPELINE GET"),
        &client,
        "PIPELINE",
        "PIPELINE GET",
        13,
    );
    assert_batch_span(&t.span("MULTI INCRBY"), &client, "MULTI", "MULTI INCRBY", 2);
    let summaries: Vec<Option<String>> = t
        .histogram("db.client.operation.duration")
        .iter()
        .map(|p| p.attr(attribute::DB_QUERY_SUMMARY))
        .collect();
    for expected in ["PIPELINE GET", "MULTI INCRBY", "DEL"] {
        assert!(
            summaries.contains(&Some(expected.to_string())),
            "{expected}: {summaries:?}"
        );
    }
}
