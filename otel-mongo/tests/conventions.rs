//! Mongo spans and measurements checked against `otel_rpc::conventions::DB` (FerretDB): the
//! start attributes as the sampler saw them, the exported span keys, the metric keys and the
//! schema URL.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use mongodb::bson::{Document, doc};
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};
use otel_rpc::conventions::Domain;
use otel_testkit::TestTelemetry;

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
async fn mongo_spans_and_metric_follow_the_db_conventions() {
    let capture = Capture::default();
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(capture.clone())));
    let handler = common::builder(&t).build();
    let f = common::fixture_with(t, handler).await;
    let coll = f.db.collection::<Document>("orders");
    coll.insert_one(doc! { "_id": 1 }).await.expect("insert");
    assert!(coll.insert_one(doc! { "_id": 1 }).await.is_err());

    let conv = Domain::Db.conventions();
    let start = keys(conv.span_start.iter().map(|a| a.key));
    let deferred = keys(conv.deferred_start.iter().copied());
    let expected_at_start: BTreeSet<String> = start.difference(&deferred).cloned().collect();
    let seen = capture.0.lock().expect("seen").clone();
    let (_, attrs) = seen
        .iter()
        .find(|(name, _)| name == "insert orders")
        .expect("the sampler saw the insert");
    assert_eq!(
        keys(attrs.iter().map(|kv| kv.key.as_str())),
        expected_at_start,
        "every sampling-relevant attribute but the (lazy) query text is given at start"
    );

    let listed = keys(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
    let spans = f.t.spans_named("insert orders");
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
    let failed = keys(spans[1].attributes.iter().map(|kv| kv.key.as_str()));
    assert!(failed.contains("error.type") && failed.contains("db.response.status_code"));

    let default_metric = keys(conv.default_metric_keys());
    let points = f.t.histogram(conv.metric_name);
    assert_eq!(points.len(), 2, "success and failure series");
    for p in &points {
        let k = keys(p.attributes.iter().map(|kv| kv.key.as_str()));
        assert!(k.is_subset(&default_metric), "{k:?}");
        assert!(k.contains("db.system.name"));
    }
    f.cleanup().await;
}
