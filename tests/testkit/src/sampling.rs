//! A sampler that records what it was given, for tests that check the sampling-relevant
//! (span-start) attributes against `otel-rpc/src/conventions.rs`; and the unsampled remote
//! parent of the tests of the unsampled path.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{
    Link, SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

/// Name and start attributes of one span, as the sampler saw them.
pub type Seen = (String, Vec<KeyValue>);

/// Keeps the name and attributes of every span it is asked about, and samples it.
#[derive(Debug, Clone, Default)]
pub struct CapturingSampler(Arc<Mutex<Vec<Seen>>>);

impl CapturingSampler {
    /// Everything seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl ShouldSample for CapturingSampler {
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

/// A sorted set of attribute keys, for comparing key sets.
pub fn key_set<'a>(list: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    list.into_iter().map(str::to_owned).collect()
}

/// Checks an exported span against a domain's conventions: its kind, its scope's schema URL,
/// every attribute key among `listed`, and every key in `deferred` (set after the start)
/// present.
#[track_caller]
pub fn assert_span_conforms(
    span: &opentelemetry_sdk::trace::SpanData,
    kind: &SpanKind,
    schema_url: &str,
    listed: &BTreeSet<String>,
    deferred: &BTreeSet<String>,
) {
    assert_eq!(&span.span_kind, kind);
    assert_eq!(span.instrumentation_scope.schema_url(), Some(schema_url));
    let exported = key_set(span.attributes.iter().map(|kv| kv.key.as_str()));
    assert!(
        exported.is_subset(listed),
        "unlisted: {:?}",
        exported.difference(listed)
    );
    for key in deferred {
        assert!(exported.contains(key), "{key} missing");
    }
}

/// The trace id of the W3C Trace Context specification's examples, the parent of
/// [`unsampled_remote_parent`].
pub const REMOTE_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// The parent span id of the W3C Trace Context specification's examples.
pub const REMOTE_PARENT_ID: &str = "00f067aa0ba902b7";

/// A context holding a remote parent ([`REMOTE_TRACE_ID`], [`REMOTE_PARENT_ID`]) that is not
/// sampled: under a parent-based sampler nothing started below it records.
pub fn unsampled_remote_parent() -> Context {
    let id = |hex: &str| u128::from_str_radix(hex, 16).unwrap_or_default();
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(id(REMOTE_TRACE_ID)),
        SpanId::from(u64::try_from(id(REMOTE_PARENT_ID)).unwrap_or_default()),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ))
}
