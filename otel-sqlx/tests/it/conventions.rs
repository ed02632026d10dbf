//! sqlx spans and measurements checked against `otel_rpc::testing::DB` (SQLite in
//! memory): the start attributes as the sampler saw them, the exported span keys, the metric
//! keys, the span names and the schema URL.

use otel_sqlx::InstrumentationOptions;
use std::collections::BTreeSet;

use opentelemetry_sdk::trace::Sampler;
use otel_rpc::Domain;
use otel_rpc::testing::Requirement;
use otel_sqlx::TracedPool;
use otel_testkit::TestTelemetry;
use otel_testkit::sampling::{CapturingSampler, assert_span_conforms, key_set};
use sqlx::sqlite::SqlitePoolOptions;

#[tokio::test]
async fn sqlite_spans_and_metric_follow_the_db_conventions() {
    let capture = CapturingSampler::default();
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(capture.clone())));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("open SQLite");
    let pool = TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
        .execute(&pool)
        .await
        .expect("create");
    sqlx::query("INSERT INTO orders (id) VALUES (1)")
        .execute(&pool)
        .await
        .expect("insert");
    sqlx::query("INSERT INTO orders (id) VALUES (1)")
        .execute(&pool)
        .await
        .expect_err("duplicate key");

    let conv = Domain::Db.conventions();
    let start = key_set(conv.span_start.iter().map(|a| a.key));
    let deferred = key_set(conv.deferred_start.iter().copied());
    let allowed_at_start: BTreeSet<String> = start.difference(&deferred).cloned().collect();
    let required = |list: &[otel_rpc::testing::Attr]| {
        key_set(
            list.iter()
                .filter(|a| a.requirement == Requirement::Required)
                .map(|a| a.key),
        )
    };
    let seen = capture.seen();
    let inserts: Vec<_> = seen
        .iter()
        .filter(|(name, _)| name == "INSERT orders")
        .collect();
    assert_eq!(inserts.len(), 2, "the sampler saw both inserts: {seen:?}");
    for (_, attrs) in inserts {
        let at_start = key_set(attrs.iter().map(|kv| kv.key.as_str()));
        assert!(
            at_start.is_subset(&allowed_at_start),
            "unlisted or deferred at start: {:?}",
            at_start.difference(&allowed_at_start)
        );
        // SQLite has no server.*; operation / collection are not parsed by default (sql.md):
        // the summary carries them.
        for key in required(conv.span_start)
            .iter()
            .map(String::as_str)
            .chain(["db.query.summary", "db.namespace"])
        {
            assert!(
                at_start.contains(key),
                "{key} not given at start: {at_start:?}"
            );
        }
    }

    let listed = key_set(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
    let spans = t.spans_named("INSERT orders");
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_span_conforms(span, &conv.span_kind, conv.schema_url, &listed, &deferred);
    }
    let failed = spans
        .iter()
        .find(|s| {
            s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == "error.type")
        })
        .expect("the duplicate insert failed");
    assert!(
        failed
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "db.response.status_code"),
        "SQLite's extended result code is the status code"
    );

    let default_metric = key_set(conv.default_metric_keys());
    let points = t.histogram(conv.metric_name);
    let inserts: Vec<_> = points
        .iter()
        .filter(|p| p.attr("db.query.summary").as_deref() == Some("INSERT orders"))
        .collect();
    assert_eq!(inserts.len(), 2, "success and failure series: {points:?}");
    for p in &points {
        let k = key_set(p.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(
            k.is_subset(&default_metric),
            "{:?}",
            k.difference(&default_metric)
        );
        for key in required(conv.metric) {
            assert!(k.contains(&key), "{key} missing on the metric: {k:?}");
        }
    }
}
