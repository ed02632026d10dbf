//! Options: command filter, custom span names, query text off / raw / capped, metrics off.

mod common;

use opentelemetry_semantic_conventions::attribute;
use otel_redis::{OperationKind, QueryTextMode, TracedConnection};
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};
use redis::AsyncCommands;

async fn connect(
    t: &TestTelemetry,
    configure: impl FnOnce(otel_redis::TracedConnectionBuilder) -> otel_redis::TracedConnectionBuilder,
) -> TracedConnection<redis::aio::MultiplexedConnection> {
    let client = common::client();
    let inner = client.get_multiplexed_async_connection().await.unwrap();
    let builder = TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone());
    configure(builder).build(inner)
}

#[tokio::test]
async fn filtered_commands_run_untraced() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.filter(|op| op != "PING")).await;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    let key = unique_name("otel_redis_filter");
    let _: Option<String> = conn.get(&key).await.unwrap();
    let spans = t.spans();
    assert_eq!(spans.len(), 1, "{}", otel_testkit::describe(&spans));
    assert_eq!(spans[0].name, "GET");
    // Filtered commands record no metric either.
    let points = t.histogram("db.client.operation.duration");
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 1);
}

#[tokio::test]
async fn custom_span_names() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| {
        b.span_name(|op| match op.kind {
            OperationKind::Command => format!("redis {} db{}", op.operation, op.namespace).into(),
            _ => format!("redis batch of {}", op.batch_size).into(),
        })
    })
    .await;
    let key = unique_name("otel_redis_names");
    let _: Option<String> = conn.get(&key).await.unwrap();
    let _: (Option<String>, Option<String>) = redis::pipe()
        .get(&key)
        .get(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    t.span("redis GET db0")
        .assert_attr(attribute::DB_OPERATION_NAME, "GET");
    t.span("redis batch of 2")
        .assert_attr(attribute::DB_QUERY_SUMMARY, "PIPELINE GET");
}

#[tokio::test]
async fn query_text_off_raw_and_capped() {
    let key = unique_name("otel_redis_text");

    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.query_text_mode(QueryTextMode::Off)).await;
    let () = conn.set(&key, "raw-value").await.unwrap();
    t.span("SET")
        .assert_no_attr(attribute::DB_QUERY_TEXT)
        .assert_attr(attribute::DB_OPERATION_NAME, "SET");

    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.query_text_mode(QueryTextMode::Raw)).await;
    let () = conn.set(&key, "raw-value").await.unwrap();
    t.span("SET")
        .assert_attr(attribute::DB_QUERY_TEXT, format!("SET {key} raw-value"));

    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.max_query_text_len(12)).await;
    let _: i64 = conn.del(&key).await.unwrap();
    let expected = otel_rpc::text::truncate(&format!("DEL {key}"), 12).into_owned();
    assert!(expected.len() <= 12);
    t.span("DEL")
        .assert_attr(attribute::DB_QUERY_TEXT, expected);
}

#[tokio::test]
async fn metrics_can_be_disabled() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.disable_metrics()).await;
    let _: Option<String> = conn.get(unique_name("otel_redis_nometrics")).await.unwrap();
    t.span("GET");
    assert!(t.histogram("db.client.operation.duration").is_empty());
}

#[tokio::test]
async fn clones_and_with_inner_share_the_configuration() {
    let t = TestTelemetry::new();
    let conn = connect(&t, |b| b.filter(|op| op != "PING")).await;
    let client = common::client();
    let mut other = conn.with_inner(client.get_multiplexed_async_connection().await.unwrap());
    let mut clone = conn.clone();
    let _: String = redis::cmd("PING").query_async(&mut other).await.unwrap();
    let _: String = redis::cmd("PING").query_async(&mut clone).await.unwrap();
    let _: Option<String> = other
        .get(unique_name("otel_redis_with_inner"))
        .await
        .unwrap();
    let _: Option<String> = clone.get(unique_name("otel_redis_clone")).await.unwrap();
    assert_eq!(t.spans_named("GET").len(), 2);
    assert_eq!(t.spans().len(), 2);
}
