//! The handler's prepared commands (one `otel_rpc::PreparedOperation` per command target)
//! against FerretDB: a command started from its prepared operation records what the checked
//! path records; hostile names are never cached and never leak; the cache stays bounded and
//! every command past its bound is still recorded.

use crate::common;

use mongodb::bson::{Document, doc};
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::{DbInstrumentationOptions, InstrumentationOptions};
use otel_rpc::{DurationMetric, SpanRecorder};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};

const MARK: &str = "pr3paredS3cret";
const METRIC: &str = "db.client.operation.duration";

/// The attributes of `span` as sorted `(key, value)` text, without the per-execution ids.
fn stable_attrs(span: &ExportedSpan) -> Vec<(String, String)> {
    let per_execution = [
        "db.mongodb.lsid",
        "db.mongodb.driver_connection_id",
        "db.mongodb.server_connection_id",
    ];
    let mut v: Vec<_> = span
        .attributes
        .iter()
        .filter(|kv| !per_execution.contains(&kv.key.as_str()))
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect();
    v.sort();
    v
}

/// The finds and updates of `run` on `f`'s database: `find orders` three times, one update
/// batch of two statements.
async fn commands(f: &common::Fixture) {
    let orders = f.db.collection::<Document>("orders");
    f.in_span("caller", async {
        for id in 0..3_i64 {
            let _ = orders.find_one(doc! { "_id": id }).await;
        }
        let _ =
            f.db.run_command(doc! {
                "update": "orders",
                "updates": [
                    { "q": { "_id": 1 }, "u": { "$set": { "v": 1 } } },
                    { "q": { "_id": 2 }, "u": { "$set": { "v": 2 } } },
                ],
            })
            .await;
    })
    .await;
}

#[tokio::test]
async fn a_prepared_command_records_what_the_checked_path_records() {
    let prepared = common::fixture().await;
    commands(&prepared).await;
    // A filter hook (that keeps everything) sends every command through the checked path.
    let t = TestTelemetry::new();
    let handler = common::builder(&t).filter(|_| true).build();
    let checked = common::fixture_with(t, handler).await;
    commands(&checked).await;

    let (targets, servers) = prepared.handler.prepared_commands();
    assert_eq!((targets, servers), (2, 2), "find orders, update orders");
    assert_eq!(checked.handler.prepared_commands(), (0, 0));
    for name in ["find orders", "update orders"] {
        let a_spans = prepared.t.spans_named(name);
        let b_spans = checked.t.spans_named(name);
        assert!(!a_spans.is_empty());
        assert_eq!(a_spans.len(), b_spans.len(), "{name}");
        for (x, y) in a_spans.iter().zip(&b_spans) {
            assert_eq!(x.span_kind, SpanKind::Client);
            assert_eq!(
                x.parent_span_id,
                prepared.t.span("caller").span_context.span_id()
            );
            let (x_attrs, y_attrs) = (stable_attrs(x), stable_attrs(y));
            let db = |v: &[(String, String)]| {
                v.iter()
                    .filter(|(k, _)| k != a::DB_NAMESPACE)
                    .cloned()
                    .collect::<Vec<_>>()
            };
            assert_eq!(db(&x_attrs), db(&y_attrs), "{name}");
            x.assert_attr(a::DB_NAMESPACE, prepared.db_name.clone());
            for key in common::CONNECTION_KEYS {
                assert!(x.attr(key).is_some(), "{name}: {key}");
            }
            assert!(x.attr(a::DB_QUERY_TEXT).is_some(), "{name}: query text");
        }
    }
    prepared
        .t
        .span("update orders")
        .assert_attr(a::DB_OPERATION_BATCH_SIZE, 2_i64);
    // One series per target, the same as the checked path's.
    let series = |t: &TestTelemetry| {
        let mut v: Vec<_> = t
            .histogram(METRIC)
            .iter()
            .map(|p| {
                let mut attrs: Vec<_> = p
                    .attributes
                    .iter()
                    .filter(|kv| kv.key.as_str() != a::DB_NAMESPACE)
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                attrs.sort();
                (attrs, p.count)
            })
            .collect();
        v.sort();
        v
    };
    let (x, y) = (series(&prepared.t), series(&checked.t));
    assert_eq!(x, y);
    assert!(x.iter().any(|(_, count)| *count == 3), "{x:?}");
    prepared.cleanup().await;
    checked.cleanup().await;
}

#[tokio::test]
async fn hostile_names_are_never_cached_and_never_leak() {
    let f = common::fixture().await;
    let long = format!("{MARK}{}", "x".repeat(300));
    let collections = [
        format!("a b {MARK}"),
        format!("q'{MARK}"),
        format!("c;{MARK}"),
        long.clone(),
    ];
    let databases = [format!("d b {MARK}"), format!("d'{MARK}"), long];
    f.in_span("caller", async {
        // Twice each: a second command on a cached target would start from the cache.
        for _ in 0..2 {
            for c in &collections {
                let _ =
                    f.db.run_command(doc! { "find": c.as_str(), "filter": {} })
                        .await;
            }
            for d in &databases {
                let _ = f
                    .client
                    .database(d)
                    .run_command(doc! { "find": "users", "filter": {} })
                    .await;
            }
            let _ = f.db.run_command(doc! { format!("my cmd {MARK}"): 1 }).await;
            // A first value that is not a collection (a user name) is never a key.
            let _ = f.db.run_command(doc! { "usersInfo": MARK }).await;
            let _ = f.db.run_command(doc! { "ping": 1 }).await;
        }
    })
    .await;
    let spans = f.command_spans();
    let per_round = collections.len() + databases.len() + 3;
    assert_eq!(spans.len(), 2 * per_round, "every command is recorded");
    // Only `ping` on the test's database is cached; the other commands' names failed a check.
    assert_eq!(f.handler.prepared_commands(), (1, 1));
    let leaks = f.t.leaks(MARK);
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    // The hostile collections' finds: no collection, no target in the summary.
    let finds = f.t.spans_named("find");
    assert_eq!(finds.len(), 2 * collections.len());
    for s in &finds {
        s.assert_no_attr(a::DB_COLLECTION_NAME)
            .assert_attr(a::DB_QUERY_SUMMARY, "find");
    }
    for p in f.t.histogram(METRIC) {
        for kv in &p.attributes {
            assert!(kv.value.to_string().len() <= 255, "{}", kv.key);
        }
    }
    f.cleanup().await;
}

#[tokio::test]
async fn the_cache_stays_bounded_and_every_command_past_it_is_recorded() {
    // More distinct collections than the cache holds, and a distinct-values bound below both.
    const COLLECTIONS: usize = 300;
    const DISTINCT: usize = 8;
    let t = TestTelemetry::new();
    let recorder = SpanRecorder::builder(SpanKind::Client, "otel-mongo")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .duration_metric(DurationMetric::db_client().with_max_distinct_values(DISTINCT))
        .build();
    let handler = common::builder(&t).recorder(recorder).build();
    let f = common::fixture_with(t, handler).await;
    let name = |i: usize| format!("{MARK}_{i}");
    for round in 0..2 {
        for i in 0..COLLECTIONS {
            let _ =
                f.db.run_command(doc! { "find": name(i), "filter": {} })
                    .await;
        }
        let (targets, servers) = f.handler.prepared_commands();
        assert!(
            targets <= 256 && servers <= targets * 4,
            "round {round}: {targets}"
        );
        assert!(targets >= 200, "the cache is used: {targets}");
    }
    // Every command is recorded with its collection (cached or not).
    let spans = f.t.spans();
    assert_eq!(spans.len(), 2 * COLLECTIONS);
    for i in [0, 255, 256, COLLECTIONS - 1] {
        let named = f.t.spans_named(&format!("find {}", name(i)));
        assert_eq!(named.len(), 2, "{i}");
        for s in &named {
            s.assert_attr(a::DB_COLLECTION_NAME, name(i));
        }
    }
    // The metric: the first distinct values, then `_OTHER`, cached or not.
    let points = f.t.histogram(METRIC);
    let collections: std::collections::BTreeSet<_> = points
        .iter()
        .filter_map(|p| p.attr(a::DB_COLLECTION_NAME))
        .collect();
    assert!(collections.len() <= DISTINCT + 1, "{collections:?}");
    assert!(collections.contains(otel_rpc::OTHER));
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert_eq!(total, 2 * COLLECTIONS as u64);
    f.cleanup().await;
}
