//! Redis spans and measurements checked against `otel_rpc::testing::DB` (real Redis): the
//! start attributes as the sampler saw them, the exported span keys, the metric keys, the span
//! names and the schema URL.

use crate::common;

use std::collections::BTreeSet;

use opentelemetry_sdk::trace::Sampler;
use otel_rpc::Domain;
use otel_rpc::testing::Requirement;
use otel_testkit::sampling::{CapturingSampler, assert_span_conforms, key_set};
use otel_testkit::{TestTelemetry, env::unique_name};
use redis::AsyncCommands;

#[tokio::test]
async fn redis_spans_and_metric_follow_the_db_conventions() {
    let capture = CapturingSampler::default();
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(capture.clone())));
    let (_client, mut conn) = common::traced(&t).await;
    let (string_key, hash_key) = (
        unique_name("otel_redis_conv_s"),
        unique_name("otel_redis_conv_h"),
    );
    let () = conn.set(&string_key, "a string").await.expect("set");
    let _: i64 = conn.hset(&hash_key, "f", "v").await.expect("hset");
    let err = conn
        .hset::<_, _, _, i64>(&string_key, "f", "v")
        .await
        .expect_err("WRONGTYPE");
    assert_eq!(err.code(), Some("WRONGTYPE"));
    let _: i64 = conn.del(&[&string_key, &hash_key]).await.expect("del");

    let conv = Domain::Db.conventions();
    let start = key_set(conv.span_start.iter().map(|a| a.key));
    let deferred = key_set(conv.deferred_start.iter().copied());
    // Redis has no collection; every other sampling-relevant attribute but the (lazy) query
    // text is given at start.
    let expected_at_start: BTreeSet<String> = start
        .difference(&deferred)
        .filter(|k| k.as_str() != "db.collection.name")
        .cloned()
        .collect();
    let seen = capture.seen();
    let hsets: Vec<_> = seen.iter().filter(|(name, _)| name == "HSET").collect();
    assert_eq!(hsets.len(), 2, "the sampler saw both HSETs: {seen:?}");
    for (_, attrs) in hsets {
        assert_eq!(
            key_set(attrs.iter().map(|kv| kv.key.as_str())),
            expected_at_start
        );
    }

    let listed = key_set(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
    let spans = t.spans_named("HSET");
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
        .expect("the WRONGTYPE HSET failed");
    assert!(
        failed
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == "db.response.status_code")
    );

    let default_metric = key_set(conv.default_metric_keys());
    let required = key_set(
        conv.metric
            .iter()
            .filter(|a| a.requirement == Requirement::Required)
            .map(|a| a.key),
    );
    let points = t.histogram(conv.metric_name);
    let hset_series = points
        .iter()
        .filter(|p| p.attr("db.operation.name").as_deref() == Some("HSET"))
        .count();
    assert_eq!(hset_series, 2, "success and failure series: {points:?}");
    for p in &points {
        let k = key_set(p.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(
            k.is_subset(&default_metric),
            "{:?}",
            k.difference(&default_metric)
        );
        assert!(required.is_subset(&k), "{k:?}");
    }
}
