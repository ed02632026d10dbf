//! Parent links under concurrency, and the unsampled fast path (no span, no sanitizer run).

use crate::common;

use common::*;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{TraceContextExt, TraceId, Tracer};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::trace::Sampler;
use otel_rpc::DbOperation;
use otel_sqlx::{DbInstrumentationOptions as _, InstrumentationOptions as _, TracedPool};
use otel_testkit::env::{postgres_url, require};
use otel_testkit::{SpanAssert, TestTelemetry, describe};
use sqlx::{AssertSqlSafe, Postgres};

async fn pg(t: &TestTelemetry) -> TracedPool<Postgres> {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(8)
        .connect(&url)
        .await
        .expect("connect to PostgreSQL");
    traced(t, pool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_queries_keep_their_parents() {
    let t = TestTelemetry::new();
    let pool = pg(&t).await;
    let tracer = t.tracer("test");
    let mut tasks = Vec::new();
    for i in 0..100 {
        let span = tracer.start(format!("parent-{i}"));
        let cx = Context::current_with_span(span);
        let pool = pool.clone();
        tasks.push(tokio::spawn(
            async move {
                let v: i32 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT $1::int4 AS c{i}")))
                    .bind(i)
                    .fetch_one(&pool)
                    .await
                    .expect("query");
                assert_eq!(v, i);
                Context::current().span().end();
            }
            .with_context(cx),
        ));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let spans = t.spans();
    assert_eq!(spans.len(), 200, "{}", describe(&spans));
    for i in 0..100 {
        let parent = t.span(&format!("parent-{i}"));
        let text = format!("SELECT $1::int4 AS c{i}");
        let child: Vec<_> = spans
            .iter()
            .filter(|s| s.attr("db.query.text") == Some(&Value::from(text.clone())))
            .collect();
        assert_eq!(child.len(), 1, "query {i}");
        child[0].assert_child_of(&parent);
        assert_ne!(
            parent.span_context.trace_id(),
            spans
                .iter()
                .find(|s| s.name == format!("parent-{}", (i + 1) % 100))
                .map(|s| s.span_context.trace_id())
                .unwrap_or(TraceId::INVALID),
            "each parent is its own trace"
        );
    }
}

#[tokio::test]
async fn unsampled_parent_exports_nothing_and_never_sanitizes() {
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    let pool = pg(&t).await;
    let unsampled = otel_testkit::sampling::unsampled_remote_parent();
    async {
        for i in 0..5i64 {
            let _: i64 = sqlx::query_scalar("SELECT $1::int8 + 1 WHERE 'secret' <> ''")
                .bind(i)
                .fetch_one(&pool)
                .await
                .expect("query");
        }
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query("SELECT 1")
            .execute(&mut *tx)
            .await
            .expect("in tx");
        tx.commit().await.expect("commit");
    }
    .with_context(unsampled)
    .await;
    assert!(t.spans().is_empty(), "{}", describe(&t.spans()));
    assert_eq!(
        pool.query_cache().sanitizations(),
        0,
        "sanitizer ran for unsampled spans"
    );
    // The metric still gets the summary (computed from the cache).
    let points = t.histogram("db.client.operation.duration");
    let select = points
        .iter()
        .find(|p| p.attr("db.query.summary").as_deref() == Some("SELECT") && p.count == 6)
        .unwrap_or_else(|| panic!("SELECT metric point: {points:?}"));
    assert_eq!(select.attr("db.system.name").as_deref(), Some("postgresql"));

    // A sampled run of the same statement sanitizes it exactly once, then reuses the text.
    let cx = parent(&t, "parent");
    async {
        for i in 0..3i64 {
            let _: i64 = sqlx::query_scalar("SELECT $1::int8 + 1 WHERE 'secret' <> ''")
                .bind(i)
                .fetch_one(&pool)
                .await
                .expect("query");
        }
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    assert_eq!(pool.query_cache().sanitizations(), 1);
    let spans = t.spans_named("SELECT");
    assert_eq!(spans.len(), 3);
    for s in &spans {
        s.assert_child_of(&p)
            .assert_attr("db.query.text", "SELECT $1::int8 + ? WHERE ? <> ?");
    }
}

#[tokio::test]
async fn options_filter_names_and_text_modes() {
    let t = TestTelemetry::new();
    let url = postgres_url();
    require("PostgreSQL", &url);
    let raw_pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let pool = TracedPool::builder(raw_pool.clone())
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .filter(|op: &DbOperation<'_>| {
            op.summary.as_ref().map(|s| s.as_str()) != Some("SELECT pg_catalog.pg_am")
        })
        .span_name(
            |op: &DbOperation<'_>| match op.summary.as_ref().map(|s| s.as_str()) {
                Some("SHOW") => "custom show".into(),
                _ => op.span_name(),
            },
        )
        .build();
    let cx = parent(&t, "parent");
    async {
        sqlx::query("SELECT 'health' FROM pg_catalog.pg_am LIMIT 1")
            .execute(&pool)
            .await
            .expect("filtered");
        sqlx::query("SHOW server_version")
            .execute(&pool)
            .await
            .expect("show");
        sqlx::query("SELECT 'v' AS x")
            .execute(&pool)
            .await
            .expect("select");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    assert_eq!(t.spans().len(), 3, "{}", describe(&t.spans()));
    t.span("custom show")
        .assert_child_of(&p)
        .assert_attr("db.query.summary", "SHOW")
        .assert_no_attr("db.operation.name");
    t.span("SELECT")
        .assert_attr("db.query.text", "SELECT ? AS x")
        .assert_no_attr("db.response.returned_rows");

    for (mode, expected) in [
        (otel_sqlx::QueryTextMode::Off, None),
        (otel_sqlx::QueryTextMode::Raw, Some("SELECT 'v' AS x")),
    ] {
        let t = TestTelemetry::new();
        let pool = TracedPool::builder(raw_pool.clone())
            .tracer_provider(t.tracer_provider.clone())
            .query_text(mode)
            .build();
        sqlx::query("SELECT 'v' AS x")
            .execute(&pool)
            .await
            .expect("select");
        let s = t.span("SELECT");
        match expected {
            Some(text) => s.assert_attr("db.query.text", text),
            None => s.assert_no_attr("db.query.text"),
        };
        assert_eq!(pool.query_cache().sanitizations(), 0);
    }

    let t = TestTelemetry::new();
    let pool = TracedPool::builder(raw_pool)
        .tracer_provider(t.tracer_provider.clone())
        .max_query_text_len(16)
        .build();
    sqlx::query("SELECT 1 AS aaaaaaaaaaaaaaaaaaaa")
        .execute(&pool)
        .await
        .expect("select");
    t.span("SELECT")
        .assert_attr("db.query.text", "SELECT ? AS a…");
}
