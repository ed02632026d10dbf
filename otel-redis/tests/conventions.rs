//! Redis spans and measurements checked against `otel_rpc::conventions::DB` (real Redis): the
//! start attributes as the sampler saw them, the exported span keys, the metric keys, the span
//! names and the schema URL.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};
use otel_rpc::conventions::{Domain, Requirement};
use otel_testkit::{TestTelemetry, env::unique_name};
use redis::AsyncCommands;

/// Name and start attributes of one span, as the sampler saw them.
type Seen = (String, Vec<KeyValue>);

/// A sampler that keeps what it was given for every span, and samples it.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

impl ShouldSample for Capture {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        name: &str,
        _kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((name.to_owned(), attributes.to_vec()));
        }
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

fn keys<'a>(list: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    list.into_iter().map(str::to_owned).collect()
}

#[tokio::test]
async fn redis_spans_and_metric_follow_the_db_conventions() {
    let capture = Capture::default();
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
    let start = keys(conv.span_start.iter().map(|a| a.key));
    let deferred = keys(conv.deferred_start.iter().copied());
    // Redis has no collection; every other sampling-relevant attribute but the (lazy) query
    // text is given at start.
    let expected_at_start: BTreeSet<String> = start
        .difference(&deferred)
        .filter(|k| k.as_str() != "db.collection.name")
        .cloned()
        .collect();
    let seen = capture.0.lock().expect("seen").clone();
    let hsets: Vec<_> = seen.iter().filter(|(name, _)| name == "HSET").collect();
    assert_eq!(hsets.len(), 2, "the sampler saw both HSETs: {seen:?}");
    for (_, attrs) in hsets {
        assert_eq!(
            keys(attrs.iter().map(|kv| kv.key.as_str())),
            expected_at_start
        );
    }

    let listed = keys(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
    let spans = t.spans_named("HSET");
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(span.span_kind, conv.span_kind);
        assert_eq!(
            span.instrumentation_scope.schema_url(),
            Some(conv.schema_url)
        );
        let exported = keys(span.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(
            exported.is_subset(&listed),
            "unlisted: {:?}",
            exported.difference(&listed)
        );
        for key in &deferred {
            assert!(exported.contains(key), "{key} missing");
        }
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

    let default_metric = keys(conv.default_metric_keys());
    let required = keys(
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
        let k = keys(p.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(
            k.is_subset(&default_metric),
            "{:?}",
            k.difference(&default_metric)
        );
        assert!(required.is_subset(&k), "{k:?}");
    }
}
