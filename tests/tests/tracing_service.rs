//! The `tracing_service` example (tower-http `TraceLayer` + tracing-opentelemetry +
//! `HttpServerLayer` + `TracedPool` on SQLite): one trace per request, the `request` span
//! under the SERVER span, the handler's `#[instrument]` span under it, the query under that.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use examples::tracing_service::{count_orders, router, seed, subscriber};
use http_body_util::BodyExt;
use opentelemetry::trace::SpanKind;
use otel_rpc::InstrumentationOptions;
use otel_sqlx::TracedPool;
use otel_testkit::{SpanAssert, TestTelemetry, describe};
use sqlx::Sqlite;
use tower::ServiceExt;

async fn pool(t: &TestTelemetry) -> TracedPool<Sqlite> {
    let sqlite = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    let pool = TracedPool::builder(sqlite)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    seed(&pool).await.expect("seed");
    pool
}

/// The two tests take turns: each sets its own thread-local subscriber, and tracing's callsite
/// interest is process-wide, so a callsite first hit while the other test's subscriber comes
/// and goes can be cached without this one (run in parallel, ~1 run in 25 lost tower-http's
/// `request` span; alone, none in 200).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn one_trace_per_request_with_the_handler_and_query_spans_nested() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let t = TestTelemetry::new();
    let _guard = tracing::subscriber::set_default(subscriber(&t.tracer_provider, true));
    let pool = pool(&t).await;
    let handle = pool.clone();
    let app = router(pool, &t.tracer_provider);
    t.reset();

    for _ in 0..2 {
        let response = app
            .clone()
            .oneshot(
                Request::get("/orders/1")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"teapot");
    }

    // The pool's SQLite worker may still hold the last request's span (see `closed`):
    // closing the pool ends the worker.
    drop(app);
    handle.close().await;
    closed(&t, &[("request", 2), ("load_order", 2)]).await;
    let spans = t.spans();
    let servers = t.spans_named("GET /orders/{id}");
    assert_eq!(servers.len(), 2, "{}", describe(&spans));
    for server in &servers {
        server.assert_kind(SpanKind::Server);
        assert!(
            !server.parent_span_id.to_string().chars().any(|c| c != '0'),
            "the SERVER span is the root: {}",
            describe(&spans)
        );
        let trace = server.span_context.trace_id();
        let mine: Vec<_> = spans
            .iter()
            .filter(|s| s.span_context.trace_id() == trace)
            .cloned()
            .collect();
        let named = |name: &str| {
            let found: Vec<_> = mine.iter().filter(|s| s.name == name).collect();
            assert_eq!(
                found.len(),
                1,
                "{name} in {}\nall: {}",
                describe(&mine),
                describe(&spans)
            );
            found[0].clone()
        };
        let request = named("request");
        let handler = named("load_order");
        let query = named("SELECT orders");
        request.assert_child_of(server);
        handler.assert_child_of(&request);
        query
            .assert_kind(SpanKind::Client)
            .assert_child_of(&handler)
            .assert_attr("db.system.name", "sqlite");
        assert_eq!(mine.len(), 4, "{}", describe(&mine));
    }
    assert_ne!(
        servers[0].span_context.trace_id(),
        servers[1].span_context.trace_id(),
        "one trace per request"
    );
}

/// Outside a request no OpenTelemetry context is current: the job's `#[instrument]` span is
/// the query's parent with and without tracing-opentelemetry's context activation (without it,
/// through otel-sqlx's `tracing` feature).
#[tokio::test]
async fn a_job_span_parents_its_queries_with_and_without_context_activation() {
    let _turn = ONE_AT_A_TIME.lock().await;
    for activation in [true, false] {
        let t = TestTelemetry::new();
        let _guard = tracing::subscriber::set_default(subscriber(&t.tracer_provider, activation));
        let pool = pool(&t).await;
        t.reset();
        assert_eq!(count_orders(&pool).await.expect("count"), 1);
        closed(&t, &[("count_orders", 1)]).await;
        let spans = t.spans();
        let job = t.span("count_orders");
        assert!(
            !job.parent_span_id.to_string().chars().any(|c| c != '0'),
            "activation {activation}: the job span is a root: {}",
            describe(&spans)
        );
        t.span("SELECT orders")
            .assert_kind(SpanKind::Client)
            .assert_child_of(&job);
        assert_eq!(
            spans.len(),
            2,
            "activation {activation}: {}",
            describe(&spans)
        );
    }
}

/// Waits (at most 2 s) until `count` spans of each name are exported. sqlx-sqlite hands a
/// clone of the current `tracing` span to its worker thread with every command, and the worker
/// drops it just after answering, so a `tracing` span around a query can close a moment after
/// the query returned (about 1 run in 14 read the spans before that). The assertions then see
/// exactly what was exported.
async fn closed(t: &TestTelemetry, names: &[(&str, usize)]) {
    for _ in 0..200 {
        if names
            .iter()
            .all(|(name, count)| t.spans_named(name).len() >= *count)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
