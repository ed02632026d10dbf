//! Exported telemetry checked against `otel-rpc/src/conventions.rs`: start-time attributes as the
//! sampler saw them, detail attributes, metric attribute sets and requirement levels, schema
//! URLs per domain.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};
use otel_rpc::Domain;
use otel_rpc::testing as conventions;
use otel_rpc::testing::DB_METRIC_KEYS;
use otel_rpc::testing::Requirement;
use otel_rpc::{DbOperation, DurationMetric, Failure, Outcome, QueryText, SpanRecorder};
use otel_testkit::TestTelemetry;

/// A sampler that records every span's name, kind and start attributes, and samples it.
#[derive(Debug, Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

/// Name, kind and start attributes of one span, as the sampler saw them.
type Seen = (String, SpanKind, Vec<KeyValue>);

impl ShouldSample for Capture {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((name.to_owned(), kind.clone(), attributes.to_vec()));
        }
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

impl Capture {
    fn keys_of(&self, name: &str) -> BTreeSet<String> {
        let seen = self.0.lock().unwrap();
        let (_, _, attrs) = seen
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("sampler never saw {name}"));
        attrs.iter().map(|kv| kv.key.to_string()).collect()
    }
}

fn keys(list: impl IntoIterator<Item = &'static str>) -> BTreeSet<String> {
    list.into_iter().map(str::to_owned).collect()
}

#[test]
fn db_span_start_detail_and_metric_follow_the_conventions() {
    let capture = Capture::default();
    // ParentBased delegates to the capturing root sampler for root spans.
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(capture.clone())));
    let conv = Domain::Db.conventions();
    let rec = SpanRecorder::builder(SpanKind::Client, "conventions-test")
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .status_code_attribute(
            opentelemetry_semantic_conventions::attribute::DB_RESPONSE_STATUS_CODE,
        )
        .build();
    let text = || Some(StringValue::from("SELECT * FROM orders WHERE id = ?"));
    let op = DbOperation::new("postgresql")
        .namespace("shop")
        .collection("orders")
        .operation("SELECT")
        .summary("SELECT orders")
        .server("db.local", Some(5433))
        .query_text(QueryText::Lazy(&text));
    rec.start_db(&Context::new(), &op)
        .end(Failure::new("42P01").with_status_code("42P01").into());

    // Start time: every sampling-relevant key the operation has, except the documented
    // deferred ones, reached the sampler; nothing else did.
    let at_start = capture.keys_of("SELECT orders");
    let start_set = keys(conv.span_start.iter().map(|a| a.key));
    let deferred = keys(conv.deferred_start.iter().copied());
    let expected: BTreeSet<String> = start_set.difference(&deferred).cloned().collect();
    assert_eq!(
        at_start, expected,
        "start attributes vs conventions::DB.span_start"
    );
    assert!(
        conv.span_start
            .iter()
            .any(|a| a.key == "db.system.name" && a.requirement == Requirement::Required)
    );

    // The deferred and detail attributes are on the exported span.
    let span = t.span("SELECT orders");
    assert_eq!(span.span_kind, conv.span_kind);
    let exported: BTreeSet<String> = span
        .attributes
        .iter()
        .map(|kv| kv.key.to_string())
        .collect();
    for key in &deferred {
        assert!(exported.contains(key), "{key} missing on the span");
    }
    for key in ["db.response.status_code", "error.type"] {
        assert!(
            conv.detail.iter().any(|a| a.key == key),
            "{key} not a detail key"
        );
        assert!(exported.contains(key), "{key} missing on the span");
    }
    let listed: BTreeSet<String> = keys(conv.span_start.iter().chain(conv.detail).map(|a| a.key));
    assert!(
        exported.is_subset(&listed),
        "unlisted span keys: {:?}",
        exported.difference(&listed)
    );
    assert_eq!(
        span.instrumentation_scope.schema_url(),
        Some(conv.schema_url)
    );

    // Metric: only listed, non-opt-in keys; every required one present.
    let points = t.histogram(conv.metric_name);
    assert_eq!(points.len(), 1);
    let metric_keys: BTreeSet<String> = points[0]
        .attributes
        .iter()
        .map(|kv| kv.key.to_string())
        .collect();
    let default_keys = keys(conv.default_metric_keys());
    assert!(metric_keys.is_subset(&default_keys), "{metric_keys:?}");
    for a in conv
        .metric
        .iter()
        .filter(|a| a.requirement == Requirement::Required)
    {
        assert!(metric_keys.contains(a.key), "required {} missing", a.key);
    }
    assert!(!metric_keys.contains("db.query.text"));
}

#[test]
fn db_metric_allow_list_matches_the_requirement_levels() {
    let conv = Domain::Db.conventions();
    let allow = keys(DB_METRIC_KEYS.iter().copied());
    let default_keys = keys(conv.default_metric_keys());
    assert!(
        allow.is_subset(&default_keys),
        "{:?}",
        allow.difference(&default_keys)
    );
    for a in conv.metric {
        match a.requirement {
            Requirement::Required | Requirement::ConditionallyRequired => {
                assert!(
                    allow.contains(a.key),
                    "{} ({:?}) not allowed on the metric",
                    a.key,
                    a.requirement
                )
            }
            Requirement::OptIn => assert!(!allow.contains(a.key), "{} is opt-in", a.key),
            Requirement::Recommended => {}
        }
    }
    assert_eq!(DurationMetric::db_client().keys.as_ref(), DB_METRIC_KEYS);
}

#[test]
fn every_domain_reports_its_schema_url_and_names() {
    let cases = [
        (DurationMetric::db_client(), Domain::Db, SpanKind::Client),
        (
            DurationMetric::http_server(),
            Domain::HttpServer,
            SpanKind::Server,
        ),
        (
            DurationMetric::http_client(),
            Domain::HttpClient,
            SpanKind::Client,
        ),
        (
            DurationMetric::rpc_server(),
            Domain::RpcServer,
            SpanKind::Server,
        ),
        (
            DurationMetric::rpc_client(),
            Domain::RpcClient,
            SpanKind::Client,
        ),
    ];
    for (metric, domain, kind) in cases {
        let conv = domain.conventions();
        assert_eq!(conv.domain, domain);
        assert_eq!(conv.span_kind, kind);
        assert_eq!(metric.name, conv.metric_name);
        assert_eq!(conv.semconv_version, conventions::SEMCONV_VERSION);
        assert!(
            conv.schema_url.ends_with(conv.semconv_version),
            "{}",
            conv.schema_url
        );
        assert_eq!(conv.exception_event, domain.exception_event_name());
        assert!(conv.exception_event.ends_with(".exception"));
        let t = TestTelemetry::new();
        let rec = SpanRecorder::builder(kind.clone(), "schema-test")
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .duration_metric(metric)
            .build();
        assert_eq!(rec.domain(), domain);
        rec.start(&Context::new(), "op", vec![])
            .end(Outcome::Success);
        let span = t.span("op");
        assert_eq!(
            span.instrumentation_scope.schema_url(),
            Some(conv.schema_url)
        );
        assert_eq!(t.histogram(conv.metric_name).len(), 1, "{domain:?}");
        // Every key is listed once per set, and start / detail sets do not overlap.
        let start = keys(conv.span_start.iter().map(|a| a.key));
        let detail = keys(conv.detail.iter().map(|a| a.key));
        assert_eq!(
            start.len(),
            conv.span_start.len(),
            "{domain:?} duplicate start key"
        );
        assert_eq!(
            detail.len(),
            conv.detail.len(),
            "{domain:?} duplicate detail key"
        );
        assert!(start.is_disjoint(&detail), "{domain:?}");
        assert!(conv.deferred_start.iter().all(|k| start.contains(*k)));
        assert_eq!(
            keys(conv.metric.iter().map(|a| a.key)).len(),
            conv.metric.len()
        );
    }
    // The RPC status code key is the one const.
    assert_eq!(conventions::RPC_STATUS_CODE, "rpc.response.status_code");
    assert_eq!(
        Domain::RpcServer
            .conventions()
            .metric_requirement(conventions::RPC_STATUS_CODE),
        Some(Requirement::ConditionallyRequired)
    );
    assert_eq!(
        Domain::RpcServer.conventions().stability,
        conventions::Stability::ReleaseCandidate
    );
    assert_eq!(
        Domain::Db.conventions().stability,
        conventions::Stability::Stable
    );
}
