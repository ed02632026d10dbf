//! 100 clones of one multiplexed connection used concurrently, each under its own parent:
//! every span is the child of its own parent.

use crate::common;

use std::collections::HashMap;

use opentelemetry::context::FutureExt;
use opentelemetry::trace::{TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;
use otel_testkit::{SpanAssert, TestTelemetry, env::unique_name};
use redis::AsyncCommands;

const TASKS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clones_keep_their_parents() {
    let t = TestTelemetry::new();
    let (_client, conn) = common::traced(&t).await;
    let prefix = unique_name("otel_redis_concurrent");
    let tracer = t.tracer("otel-redis-test");

    let mut tasks = Vec::with_capacity(TASKS);
    for i in 0..TASKS {
        let mut conn = conn.clone();
        let key = format!("{prefix}:{i}");
        let span = tracer
            .span_builder(format!("parent-{i}"))
            .with_attributes([KeyValue::new("task", i as i64)])
            .start(&tracer);
        let cx = Context::current_with_span(span);
        tasks.push(tokio::spawn(
            async move {
                let () = conn.set(&key, i).await.unwrap();
                tokio::task::yield_now().await;
                let v: usize = conn.get(&key).await.unwrap();
                assert_eq!(v, i);
                let _: i64 = conn.del(&key).await.unwrap();
                Context::current().span().end();
            }
            .with_context(cx),
        ));
    }
    for task in tasks {
        task.await.unwrap();
    }

    let spans = t.spans();
    let parents: HashMap<_, usize> = spans
        .iter()
        .filter(|s| s.name.starts_with("parent-"))
        .map(|s| {
            let i = s.name.trim_start_matches("parent-").parse().unwrap();
            (s.span_context.span_id(), i)
        })
        .collect();
    assert_eq!(parents.len(), TASKS);
    for name in ["SET", "GET", "DEL"] {
        let named = t.spans_named(name);
        assert_eq!(named.len(), TASKS, "{name} spans");
        let mut seen = [false; TASKS];
        for span in &named {
            let i = *parents
                .get(&span.parent_span_id)
                .unwrap_or_else(|| panic!("{name} span without a test parent"));
            let text = span.attr(attribute::DB_QUERY_TEXT).unwrap().to_string();
            let expected_key = format!("{prefix}:{i}");
            assert_eq!(
                text.split(' ').nth(1),
                Some(expected_key.as_str()),
                "{name} under parent-{i} is about another key: {text}"
            );
            let parent = spans
                .iter()
                .find(|s| s.name == format!("parent-{i}"))
                .unwrap();
            span.assert_child_of(parent);
            assert!(!seen[i], "two {name} spans under parent-{i}");
            seen[i] = true;
        }
    }
    assert_eq!(spans.len(), TASKS * 4);
    let points = t.histogram("db.client.operation.duration");
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert_eq!(total, (TASKS * 3) as u64);
}
