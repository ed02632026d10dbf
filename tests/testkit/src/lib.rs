//! Test kit: isolated tracer and meter providers with in-memory exporters, and assertions on
//! what they exported. Never uses the global providers, so tests can run in parallel.

pub mod env;

use std::fmt::Write as _;

use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};

pub use opentelemetry_sdk::trace::SpanData as ExportedSpan;

/// One test's telemetry pipeline.
pub struct TestTelemetry {
    /// Tracer provider exporting synchronously into memory.
    pub tracer_provider: SdkTracerProvider,
    /// Meter provider whose reader exports into memory on [`TestTelemetry::histogram`].
    pub meter_provider: SdkMeterProvider,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
}

/// One histogram data point, flattened for assertions.
#[derive(Debug, Clone)]
pub struct HistogramPoint {
    /// Number of recorded values.
    pub count: u64,
    /// Sum of recorded values.
    pub sum: f64,
    /// Bucket boundaries.
    pub bounds: Vec<f64>,
    /// The point's attributes.
    pub attributes: Vec<KeyValue>,
}

impl HistogramPoint {
    /// The attribute value for `key`, as a string.
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    }
}

impl Default for TestTelemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl TestTelemetry {
    /// Always-on sampling.
    pub fn new() -> Self {
        Self::with_sampler(Sampler::AlwaysOn)
    }

    /// A custom sampler (e.g. `Sampler::ParentBased(Box::new(Sampler::AlwaysOn))`).
    pub fn with_sampler(sampler: Sampler) -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_sampler(sampler)
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let reader = PeriodicReader::builder(metrics.clone()).build();
        let meter_provider = SdkMeterProvider::builder().with_reader(reader).build();
        TestTelemetry {
            tracer_provider,
            meter_provider,
            spans,
            metrics,
        }
    }

    /// A tracer from this pipeline, for parent spans made by the test itself.
    pub fn tracer(&self, name: &'static str) -> opentelemetry_sdk::trace::SdkTracer {
        self.tracer_provider.tracer(name)
    }

    /// Every span exported so far.
    pub fn spans(&self) -> Vec<SpanData> {
        let _ = self.tracer_provider.force_flush();
        self.spans.get_finished_spans().unwrap_or_default()
    }

    /// Spans named `name`.
    pub fn spans_named(&self, name: &str) -> Vec<SpanData> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// The single span named `name`; panics listing what exists when there is none or more.
    pub fn span(&self, name: &str) -> SpanData {
        let all = self.spans();
        let mut found: Vec<SpanData> = all.iter().filter(|s| s.name == name).cloned().collect();
        match found.len() {
            1 => found.remove(0),
            n => panic!(
                "expected exactly one span named {name:?}, found {n}; spans: {}",
                describe(&all)
            ),
        }
    }

    /// Forgets exported spans and metrics.
    pub fn reset(&self) {
        self.spans.reset();
        self.metrics.reset();
    }

    /// The data points of histogram `name` (cumulative), collected now.
    pub fn histogram(&self, name: &str) -> Vec<HistogramPoint> {
        let _ = self.meter_provider.force_flush();
        let Ok(batches) = self.metrics.get_finished_metrics() else {
            return Vec::new();
        };
        // Cumulative temporality: the last export holds the totals.
        let mut points = Vec::new();
        if let Some(last) = batches.last() {
            for scope in last.scope_metrics() {
                for metric in scope.metrics() {
                    if metric.name() != name {
                        continue;
                    }
                    if let AggregatedMetrics::F64(MetricData::Histogram(h)) = metric.data() {
                        for p in h.data_points() {
                            points.push(HistogramPoint {
                                count: p.count(),
                                sum: p.sum(),
                                bounds: p.bounds().collect(),
                                attributes: p.attributes().cloned().collect(),
                            });
                        }
                    }
                }
            }
        }
        points
    }

    /// The unit of metric `name`, if exported.
    pub fn metric_unit(&self, name: &str) -> Option<String> {
        let _ = self.meter_provider.force_flush();
        let batches = self.metrics.get_finished_metrics().ok()?;
        let last = batches.last()?;
        last.scope_metrics()
            .flat_map(|s| s.metrics())
            .find(|m| m.name() == name)
            .map(|m| m.unit().to_string())
    }
}

/// One line per span: name, kind, ids, status and attributes. For panic messages.
pub fn describe(spans: &[SpanData]) -> String {
    let mut out = String::new();
    for s in spans {
        let _ = write!(
            out,
            "\n  {:?} kind={:?} trace={} span={} parent={} status={:?} attrs=[",
            s.name,
            s.span_kind,
            s.span_context.trace_id(),
            s.span_context.span_id(),
            s.parent_span_id,
            s.status
        );
        for kv in &s.attributes {
            let _ = write!(out, "{}={}, ", kv.key, kv.value);
        }
        out.push(']');
    }
    out
}

/// Assertions on an exported span.
pub trait SpanAssert {
    /// The attribute value for `key`.
    fn attr(&self, key: &str) -> Option<&Value>;
    /// Asserts `key` equals `expected`.
    fn assert_attr(&self, key: &str, expected: impl Into<Value>) -> &Self;
    /// Asserts `key` is absent.
    fn assert_no_attr(&self, key: &str) -> &Self;
    /// Asserts the span kind.
    fn assert_kind(&self, kind: SpanKind) -> &Self;
    /// Asserts this span is a direct child of `parent` (same trace, parent id).
    fn assert_child_of(&self, parent: &SpanData) -> &Self;
    /// Asserts status `Unset`.
    fn assert_unset(&self) -> &Self;
    /// Asserts status `Error`, and that an `exception` event exists.
    fn assert_error(&self) -> &Self;
    /// Every attribute and event attribute value rendered as text (for leak scans).
    fn all_text(&self) -> String;
}

impl SpanAssert for SpanData {
    fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn assert_attr(&self, key: &str, expected: impl Into<Value>) -> &Self {
        let expected = expected.into();
        match self.attr(key) {
            Some(v) if *v == expected => {}
            other => panic!(
                "span {:?}: attribute {key} = {other:?}, expected {expected:?}; span: {}",
                self.name,
                describe(std::slice::from_ref(self))
            ),
        }
        self
    }

    fn assert_no_attr(&self, key: &str) -> &Self {
        if let Some(v) = self.attr(key) {
            panic!(
                "span {:?}: attribute {key} should be absent, is {v:?}",
                self.name
            );
        }
        self
    }

    fn assert_kind(&self, kind: SpanKind) -> &Self {
        assert_eq!(self.span_kind, kind, "span {:?} kind", self.name);
        self
    }

    fn assert_child_of(&self, parent: &SpanData) -> &Self {
        assert_eq!(
            self.span_context.trace_id(),
            parent.span_context.trace_id(),
            "span {:?} is not in the trace of {:?}",
            self.name,
            parent.name
        );
        assert_eq!(
            self.parent_span_id,
            parent.span_context.span_id(),
            "span {:?} is not a child of {:?}",
            self.name,
            parent.name
        );
        self
    }

    fn assert_unset(&self) -> &Self {
        assert_eq!(self.status, Status::Unset, "span {:?} status", self.name);
        self
    }

    fn assert_error(&self) -> &Self {
        assert!(
            matches!(self.status, Status::Error { .. }),
            "span {:?} status {:?}, expected Error",
            self.name,
            self.status
        );
        assert!(
            self.events.iter().any(|e| e.name == "exception"),
            "span {:?} has no exception event",
            self.name
        );
        self
    }

    fn all_text(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "{} ", self.name);
        if let Status::Error { description } = &self.status {
            let _ = write!(out, "{description} ");
        }
        for kv in &self.attributes {
            let _ = write!(out, "{}={} ", kv.key, kv.value);
        }
        for e in self.events.iter() {
            let _ = write!(out, "{} ", e.name);
            for kv in &e.attributes {
                let _ = write!(out, "{}={} ", kv.key, kv.value);
            }
        }
        out
    }
}
