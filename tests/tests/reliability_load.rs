//! Load: 10,000 operations mixed across Redis, SQLite, PostgreSQL, MongoDB, HTTP and gRPC,
//! each in its own spawned task under its own parent span, at most 200 at a time. Every
//! operation has exactly its expected spans under the right parent, the metric counts match
//! the operation counts exactly, and no adapter keeps state afterwards (Mongo in-flight 0).
//!
//! Soak: `OTEL_SOAK_OPS=1000000 cargo test -p tests --all-features --release --test
//! reliability_load -- --nocapture` runs the same check in chunks of 10,000 (spans are
//! verified then forgotten after each chunk) and prints throughput and RSS per chunk.

#[path = "it/reliability_common/mod.rs"]
mod reliability_common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use mongodb::bson::{Document, doc};
use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt, Tracer};
use otel_testkit::{ExportedSpan, TestTelemetry, describe};
use reliability_common as common;
use tokio::sync::Semaphore;

const DEFAULT_OPS: usize = 10_000;
const CHUNK: usize = 10_000;
const CONCURRENCY: usize = 200;
const KINDS: usize = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Redis,
    Sqlite,
    Postgres,
    Mongo,
    Http,
    Grpc,
}

impl Kind {
    fn of(i: usize) -> Kind {
        [
            Kind::Redis,
            Kind::Sqlite,
            Kind::Postgres,
            Kind::Mongo,
            Kind::Http,
            Kind::Grpc,
        ][i % KINDS]
    }

    /// (client span name, server span name under it, if any).
    fn expected(self) -> (&'static str, Option<&'static str>) {
        match self {
            Kind::Redis => ("SET", None),
            Kind::Sqlite => ("SELECT", None),
            Kind::Postgres => ("SELECT", None),
            Kind::Mongo => ("find load", None),
            Kind::Http => ("GET", Some("GET /items/{id}")),
            Kind::Grpc => ("echo.Echo/Say", Some("echo.Echo/Say")),
        }
    }
}

struct Targets {
    redis: otel_redis::TracedConnection<redis::aio::MultiplexedConnection>,
    sqlite: otel_sqlx::TracedPool<sqlx::Sqlite>,
    postgres: otel_sqlx::TracedPool<sqlx::Postgres>,
    mongo: mongodb::Collection<Document>,
    http: common::HttpClient,
    http_base: String,
    grpc: common::GrpcClient,
    key_prefix: String,
}

impl Targets {
    async fn run(&self, kind: Kind, i: usize) {
        match kind {
            Kind::Redis => {
                let key = format!("{}:{i}", self.key_prefix);
                let mut conn = self.redis.clone();
                let () = redis::cmd("SET")
                    .arg(&key)
                    .arg(i)
                    .arg("EX")
                    .arg(60)
                    .query_async(&mut conn)
                    .await
                    .expect("SET");
            }
            Kind::Sqlite => {
                let v: i64 = sqlx::query_scalar("SELECT ? + 1")
                    .bind(i as i64)
                    .fetch_one(&self.sqlite)
                    .await
                    .expect("sqlite");
                assert_eq!(v, i as i64 + 1);
            }
            Kind::Postgres => {
                let v: i64 = sqlx::query_scalar("SELECT $1::int8 + 1")
                    .bind(i as i64)
                    .fetch_one(&self.postgres)
                    .await
                    .expect("postgres");
                assert_eq!(v, i as i64 + 1);
            }
            Kind::Mongo => {
                let found = self
                    .mongo
                    .find_one(doc! { "_id": i as i64 })
                    .await
                    .expect("find_one");
                assert!(found.is_none());
            }
            Kind::Http => {
                let (status, body) =
                    common::http_get(&self.http, &format!("{}/items/{i}", self.http_base), &[])
                        .await
                        .expect("HTTP response");
                assert_eq!(status, 200);
                assert_eq!(body, i.to_string());
            }
            Kind::Grpc => {
                let reply = self
                    .grpc
                    .clone()
                    .say(common::echo(&i.to_string()))
                    .await
                    .expect("gRPC reply");
                assert_eq!(reply.into_inner().message, i.to_string());
            }
        }
    }
}

/// Checks one chunk's spans: parents `op-{i}`, each with exactly the expected children.
fn verify(spans: &[ExportedSpan], parents: &HashMap<SpanId, (usize, Kind)>) {
    let children = common::children_by_parent(spans);
    let by_id: HashMap<SpanId, &ExportedSpan> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    let mut expected_total = 0;
    for (id, (i, kind)) in parents {
        let parent = by_id
            .get(id)
            .unwrap_or_else(|| panic!("parent span op-{i} not exported"));
        assert_eq!(parent.name, format!("op-{i}"));
        let (client_name, server_name) = kind.expected();
        let kids = children.get(id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(
            kids.len(),
            1,
            "op-{i} ({kind:?}) should have exactly one child: {}",
            describe(&kids.iter().map(|s| (*s).clone()).collect::<Vec<_>>())
        );
        let child = kids[0];
        assert_eq!(child.name, client_name, "op-{i} ({kind:?})");
        assert_eq!(child.span_kind, SpanKind::Client, "op-{i}");
        assert_eq!(
            child.span_context.trace_id(),
            parent.span_context.trace_id()
        );
        assert!(!common::is_error(child), "op-{i}: {child:?}");
        expected_total += 2;
        if let Some(server_name) = server_name {
            let grandkids = children
                .get(&child.span_context.span_id())
                .map(Vec::as_slice)
                .unwrap_or_default();
            assert_eq!(grandkids.len(), 1, "op-{i} ({kind:?}) server span");
            assert_eq!(grandkids[0].name, server_name);
            assert_eq!(grandkids[0].span_kind, SpanKind::Server);
            assert_eq!(
                grandkids[0].span_context.trace_id(),
                parent.span_context.trace_id()
            );
            expected_total += 1;
        }
    }
    assert_eq!(spans.len(), expected_total, "no stray spans");
}

fn metric_total(t: &TestTelemetry, name: &str) -> u64 {
    t.histogram(name).iter().map(|p| p.count).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_mixed_operations_under_distinct_parents() {
    let total: usize = std::env::var("OTEL_SOAK_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_OPS);
    let t = TestTelemetry::new();
    let handler = common::mongo_handler(&t);
    let (_mongo_client, mongo_db) = common::mongo(&handler).await;
    let http_addr = common::http_server(&t).await;
    let grpc_addr = common::grpc_server(&t).await;
    let targets = Arc::new(Targets {
        redis: common::redis(&t).await,
        sqlite: common::sqlite(&t).await,
        postgres: common::postgres(&t, 10).await,
        mongo: mongo_db.collection("load"),
        http: common::http_client(&t),
        http_base: format!("http://{http_addr}"),
        grpc: common::grpc_client(&t, grpc_addr).await,
        key_prefix: otel_testkit::env::unique_name("load"),
    });
    let tracer = t.tracer("load");
    let semaphore = Arc::new(Semaphore::new(CONCURRENCY));
    let mut counts: HashMap<Kind, u64> = HashMap::new();
    let started = Instant::now();
    let rss_start = common::rss_kib();
    let mut done = 0;

    while done < total {
        let chunk_end = (done + CHUNK).min(total);
        let chunk_started = Instant::now();
        let mut parents = HashMap::new();
        let mut handles = Vec::with_capacity(chunk_end - done);
        for i in done..chunk_end {
            let kind = Kind::of(i);
            *counts.entry(kind).or_default() += 1;
            let permit = Arc::clone(&semaphore)
                .acquire_owned()
                .await
                .expect("semaphore");
            let cx = Context::new()
                .with_span(tracer.start_with_context(format!("op-{i}"), &Context::new()));
            parents.insert(cx.span().span_context().span_id(), (i, kind));
            let targets = Arc::clone(&targets);
            handles.push(tokio::spawn(async move {
                targets.run(kind, i).with_context(cx.clone()).await;
                cx.span().end();
                drop(permit);
            }));
        }
        for h in handles {
            h.await.expect("operation task");
        }
        let elapsed = chunk_started.elapsed();
        verify(&t.spans(), &parents);
        assert_eq!(
            handler.in_flight(),
            0,
            "mongo in-flight state after the chunk"
        );
        t.reset();
        eprintln!(
            "load: ops {done}..{chunk_end} in {elapsed:?} ({:.0} ops/s), RSS {} MiB",
            (chunk_end - done) as f64 / elapsed.as_secs_f64(),
            common::rss_kib() / 1024
        );
        done = chunk_end;
    }

    // Metrics count every operation exactly once.
    let db_ops = counts[&Kind::Redis]
        + counts[&Kind::Sqlite]
        + counts[&Kind::Postgres]
        + counts[&Kind::Mongo];
    assert_eq!(metric_total(&t, "db.client.operation.duration"), db_ops);
    assert_eq!(
        metric_total(&t, "http.client.request.duration"),
        counts[&Kind::Http]
    );
    assert_eq!(
        metric_total(&t, "http.server.request.duration"),
        counts[&Kind::Http]
    );
    assert_eq!(
        metric_total(&t, "rpc.client.call.duration"),
        counts[&Kind::Grpc]
    );
    assert_eq!(
        metric_total(&t, "rpc.server.call.duration"),
        counts[&Kind::Grpc]
    );
    assert_eq!(handler.in_flight(), 0);
    assert_eq!(handler.lost_replies(), 0);
    eprintln!(
        "load: {total} operations ({counts:?}) in {:?}, RSS {} -> {} MiB",
        started.elapsed(),
        rss_start / 1024,
        common::rss_kib() / 1024
    );
    common::drop_mongo_db(&mongo_db).await;
}
