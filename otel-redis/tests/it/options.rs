//! Options (the shared vocabulary of `otel-rpc`): filter and span names typed on
//! `DbOperation`, query text off / raw / capped, metrics off, classification rules, the
//! on/off switch, `require_parent`.

use crate::common;

use opentelemetry_semantic_conventions::attribute;
use std::borrow::Cow;

use otel_redis::{
    DbInstrumentationOptions, InstrumentationOptions, QueryTextMode, TracedConnection,
};
use otel_rpc::DbOperation;
use otel_rpc::{Observed, Verdict};
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

fn not_ping(op: &DbOperation<'_>) -> bool {
    op.operation.as_ref().is_none_or(|o| o.as_str() != "PING")
}

#[tokio::test]
async fn filtered_commands_run_untraced() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.filter(not_ping)).await;
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
        b.span_name(|op| match op.batch_size {
            Some(n) => Cow::Owned(format!("redis batch of {n}")),
            None => Cow::Owned(format!(
                "redis {} db{}",
                op.span_name(),
                op.namespace.as_ref().map_or("", |n| n.as_str())
            )),
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
    // The hook renames the span only: the metric keeps the summary.
    let summaries: Vec<_> = t
        .histogram("db.client.operation.duration")
        .iter()
        .filter_map(|p| p.attr(attribute::DB_QUERY_SUMMARY))
        .collect();
    assert!(
        summaries.contains(&"PIPELINE GET".to_string()),
        "{summaries:?}"
    );
}

#[tokio::test]
async fn query_text_off_raw_and_capped() {
    let key = unique_name("otel_redis_text");

    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.query_text(QueryTextMode::Off)).await;
    let () = conn.set(&key, "raw-value").await.unwrap();
    t.span("SET")
        .assert_no_attr(attribute::DB_QUERY_TEXT)
        .assert_attr(attribute::DB_OPERATION_NAME, "SET");

    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.query_text(QueryTextMode::Raw)).await;
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
    let conn = connect(&t, |b| b.filter(not_ping)).await;
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

#[tokio::test]
async fn classification_rules_flip_errors_and_successes() {
    let t = TestTelemetry::new();
    let key = unique_name("otel_redis_classify");
    let mut conn = connect(&t, |b| {
        b.classify(|o| match o {
            // A missing script is expected (EVALSHA then EVAL), and so is a type clash.
            Observed::Db {
                status_code: Some("NOSCRIPT" | "WRONGTYPE"),
                ..
            } => Some(Verdict::NotError),
            _ => None,
        })
    })
    .await;
    let () = conn.set(&key, "a string").await.unwrap();
    let wrongtype = conn.hset::<_, _, _, i64>(&key, "f", "v").await;
    assert!(wrongtype.is_err());
    let noscript = redis::cmd("EVALSHA")
        .arg("0000000000000000000000000000000000000000")
        .arg(0)
        .query_async::<redis::Value>(&mut conn)
        .await;
    assert_eq!(noscript.unwrap_err().code(), Some("NOSCRIPT"));
    let unknown = redis::cmd("NOSUCHCOMMAND")
        .query_async::<redis::Value>(&mut conn)
        .await;
    assert!(unknown.is_err());
    let _: i64 = conn.del(&key).await.unwrap();

    for name in ["HSET", "EVALSHA"] {
        // Expected: status Unset and no error.type, the response code still recorded.
        t.span(name)
            .assert_unset()
            .assert_no_attr(attribute::ERROR_TYPE)
            .assert_attr(
                attribute::DB_RESPONSE_STATUS_CODE,
                if name == "HSET" {
                    "WRONGTYPE"
                } else {
                    "NOSCRIPT"
                },
            );
    }
    // Other errors keep the default rule.
    t.span("_OTHER")
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "ERR");
    let errors: Vec<_> = t
        .histogram("db.client.operation.duration")
        .iter()
        .filter_map(|p| p.attr(attribute::ERROR_TYPE))
        .collect();
    assert_eq!(
        errors,
        vec!["ERR".to_string()],
        "only the unknown command is an error"
    );

    // A different rule flips a success into an error.
    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| {
        b.classify(|o| match o {
            Observed::Db {
                status_code: None,
                error_type: None,
            } => Some(Verdict::Error),
            _ => None,
        })
    })
    .await;
    let _: Option<String> = conn.get(&key).await.unwrap();
    t.span("GET")
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "_OTHER");
}

#[tokio::test]
async fn disabled_instrumentation_is_a_pass_through() {
    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.enabled(false)).await;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    let _: Option<String> = conn.get(unique_name("otel_redis_off")).await.unwrap();
    assert!(t.spans().is_empty());
    assert!(t.histogram("db.client.operation.duration").is_empty());
}

#[tokio::test]
async fn require_parent_keeps_the_metric_but_starts_no_root_span() {
    use opentelemetry::context::FutureExt as _;

    let t = TestTelemetry::new();
    let mut conn = connect(&t, |b| b.require_parent(true)).await;
    let key = unique_name("otel_redis_require_parent");
    // No current span: a background job's commands, a command and a pipeline.
    let _: Option<String> = conn.get(&key).await.unwrap();
    let (): () = redis::pipe()
        .get(&key)
        .ignore()
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        t.spans().is_empty(),
        "{}",
        otel_testkit::describe(&t.spans())
    );
    let count = |t: &TestTelemetry| -> u64 {
        t.histogram("db.client.operation.duration")
            .iter()
            .map(|p| p.count)
            .sum()
    };
    assert_eq!(count(&t), 2, "both operations keep their metric point");

    // Under a parent: spans as usual, children of it.
    let cx = common::parent_context(&t, "parent");
    async {
        let _: Option<String> = conn.get(&key).await.unwrap();
    }
    .with_context(cx.clone())
    .await;
    let parent = common::end_parent(&t, &cx, "parent");
    t.span("GET").assert_child_of(&parent);
    assert_eq!(t.spans().len(), 2, "{}", otel_testkit::describe(&t.spans()));
    assert_eq!(count(&t), 3);
}
