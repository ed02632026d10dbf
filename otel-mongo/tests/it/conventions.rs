//! Mongo spans and measurements checked against `otel_rpc::testing::DB` (FerretDB): the
//! start attributes as the sampler saw them, the exported span keys, the metric keys and the
//! schema URL.

use crate::common;

use std::collections::BTreeSet;

use mongodb::bson::{Document, doc};
use opentelemetry_sdk::trace::Sampler;
use otel_rpc::Domain;
use otel_testkit::TestTelemetry;
use otel_testkit::sampling::{CapturingSampler, assert_span_conforms, key_set};

#[tokio::test]
async fn mongo_spans_and_metric_follow_the_db_conventions() {
    let capture = CapturingSampler::default();
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(capture.clone())));
    let handler = common::builder(&t).build();
    let f = common::fixture_with(t, handler).await;
    let coll = f.db.collection::<Document>("orders");
    coll.insert_one(doc! { "_id": 1 }).await.expect("insert");
    assert!(coll.insert_one(doc! { "_id": 1 }).await.is_err());

    let conv = Domain::Db.conventions();
    let start = key_set(conv.span_start.iter().map(|a| a.key));
    let deferred = key_set(conv.deferred_start.iter().copied());
    let expected_at_start: BTreeSet<String> = start.difference(&deferred).cloned().collect();
    let seen = capture.seen();
    let (_, attrs) = seen
        .iter()
        .find(|(name, _)| name == "insert orders")
        .expect("the sampler saw the insert");
    assert_eq!(
        key_set(attrs.iter().map(|kv| kv.key.as_str())),
        expected_at_start,
        "every sampling-relevant attribute but the (lazy) query text is given at start"
    );

    // Plus the MongoDB drivers' specification's connection and session attributes.
    let mut listed = key_set(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
    listed.extend(common::CONNECTION_KEYS.iter().map(|k| k.to_string()));
    let spans = f.t.spans_named("insert orders");
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_span_conforms(span, &conv.span_kind, conv.schema_url, &listed, &deferred);
    }
    let failed = key_set(spans[1].attributes.iter().map(|kv| kv.key.as_str()));
    assert!(failed.contains("error.type") && failed.contains("db.response.status_code"));

    let default_metric = key_set(conv.default_metric_keys());
    let points = f.t.histogram(conv.metric_name);
    assert_eq!(points.len(), 2, "success and failure series");
    for p in &points {
        let k = key_set(p.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(k.is_subset(&default_metric), "{k:?}");
        assert!(k.contains("db.system.name"));
    }
    f.cleanup().await;
}
