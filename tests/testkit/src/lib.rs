//! Test kit: isolated tracer and meter providers with in-memory exporters, and assertions on
//! what they exported. Never uses the global providers, so tests can run in parallel.

pub mod env;
pub mod heap;
pub mod sampling;
pub mod sql;

use std::fmt::Write as _;

use opentelemetry::logs::AnyValue;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};

pub use opentelemetry_sdk::trace::SpanData as ExportedSpan;

/// One test's telemetry pipeline.
pub struct TestTelemetry {
    /// Tracer provider exporting synchronously into memory.
    pub tracer_provider: SdkTracerProvider,
    /// Meter provider whose reader exports into memory on [`TestTelemetry::histogram`].
    pub meter_provider: SdkMeterProvider,
    /// Logger provider exporting synchronously into memory (for the `logs` exception signal).
    pub logger_provider: SdkLoggerProvider,
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
    logs: InMemoryLogExporter,
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
        let logs = InMemoryLogExporter::default();
        let logger_provider = SdkLoggerProvider::builder()
            .with_simple_exporter(logs.clone())
            .build();
        TestTelemetry {
            tracer_provider,
            meter_provider,
            logger_provider,
            spans,
            metrics,
            logs,
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

    /// Forgets exported spans, metrics and log records.
    pub fn reset(&self) {
        self.spans.reset();
        self.metrics.reset();
        self.logs.reset();
    }

    /// Every log record exported so far (the `logs` / `logs/dup` exception signal).
    pub fn logs(&self) -> Vec<SdkLogRecord> {
        let _ = self.logger_provider.force_flush();
        self.logs
            .get_emitted_logs()
            .unwrap_or_default()
            .into_iter()
            .map(|l| l.record)
            .collect()
    }

    /// The last metric collection (cumulative totals), collected now.
    fn last_metrics(&self) -> Option<ResourceMetrics> {
        let _ = self.meter_provider.force_flush();
        self.metrics.get_finished_metrics().ok()?.pop()
    }

    /// How many data points (series) metric `name` has in a collection made now, whatever its
    /// instrument type: the number a flood test bounds.
    pub fn series(&self, name: &str) -> usize {
        let Some(last) = self.last_metrics() else {
            return 0;
        };
        last.scope_metrics()
            .flat_map(|s| s.metrics())
            .filter(|m| m.name() == name)
            .map(|m| metric_points(m.data()).len())
            .sum()
    }

    /// Every place `needle` occurs in what this pipeline exported: span names, status
    /// descriptions, span attributes (keys and values), event names and attributes, link
    /// attributes and trace state, every metric data point's attributes (all instruments), and
    /// log records (event name, body, attributes). Empty means no leak.
    ///
    /// A hostile-input test plants a secret, runs the workload, asserts this is empty *and*
    /// that spans / points were produced (so the scan was not vacuous).
    pub fn leaks(&self, needle: &str) -> Vec<String> {
        let mut found = Vec::new();
        let mut check = |place: String, text: &str| {
            if text.contains(needle) {
                found.push(format!("{place}: {}", cap(text)));
            }
        };
        for s in self.spans() {
            let at = format!("span {:?}", cap(&s.name));
            check(format!("{at} name"), &s.name);
            if let Status::Error { description } = &s.status {
                check(format!("{at} status"), description);
            }
            for kv in &s.attributes {
                check(format!("{at} attribute key"), kv.key.as_str());
                check(format!("{at} attribute {}", kv.key), &kv.value.to_string());
            }
            for e in s.events.iter() {
                check(format!("{at} event name"), &e.name);
                for kv in &e.attributes {
                    check(format!("{at} event {} key", e.name), kv.key.as_str());
                    check(
                        format!("{at} event {} attribute {}", e.name, kv.key),
                        &kv.value.to_string(),
                    );
                }
            }
            for l in s.links.iter() {
                check(
                    format!("{at} link trace state"),
                    &l.span_context.trace_state().header(),
                );
                for kv in &l.attributes {
                    check(
                        format!("{at} link attribute {}", kv.key),
                        &kv.value.to_string(),
                    );
                }
            }
        }
        if let Some(last) = self.last_metrics() {
            for m in last.scope_metrics().flat_map(|s| s.metrics()) {
                for attrs in metric_points(m.data()) {
                    for kv in attrs {
                        check(
                            format!("metric {} attribute key", m.name()),
                            kv.key.as_str(),
                        );
                        check(
                            format!("metric {} attribute {}", m.name(), kv.key),
                            &kv.value.to_string(),
                        );
                    }
                }
            }
        }
        for r in self.logs() {
            let at = format!("log {:?}", r.event_name());
            if let Some(body) = r.body() {
                check(format!("{at} body"), &any_text(body));
            }
            for (k, v) in r.attributes_iter() {
                check(format!("{at} attribute key"), k.as_str());
                check(format!("{at} attribute {k}"), &any_text(v));
            }
        }
        found
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

    /// The data points of the integer sum (counter or up-down counter) `name`: value and
    /// attributes, collected now.
    pub fn i64_sum(&self, name: &str) -> Vec<(i64, Vec<KeyValue>)> {
        let Some(last) = self.last_metrics() else {
            return Vec::new();
        };
        let mut points = Vec::new();
        for m in last.scope_metrics().flat_map(|s| s.metrics()) {
            if m.name() == name
                && let AggregatedMetrics::I64(MetricData::Sum(sum)) = m.data()
            {
                points.extend(
                    sum.data_points()
                        .map(|p| (p.value(), p.attributes().cloned().collect())),
                );
            }
        }
        points
    }

    /// The data points of the integer histogram `name` (e.g. a body size in bytes),
    /// collected now.
    pub fn u64_histogram(&self, name: &str) -> Vec<HistogramPoint> {
        let Some(last) = self.last_metrics() else {
            return Vec::new();
        };
        let mut points = Vec::new();
        for m in last.scope_metrics().flat_map(|s| s.metrics()) {
            if m.name() == name
                && let AggregatedMetrics::U64(MetricData::Histogram(h)) = m.data()
            {
                points.extend(h.data_points().map(|p| HistogramPoint {
                    count: p.count(),
                    sum: p.sum() as f64,
                    bounds: p.bounds().collect(),
                    attributes: p.attributes().cloned().collect(),
                }));
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

/// The attribute sets of every data point of one metric, whatever its type.
fn metric_points(data: &AggregatedMetrics) -> Vec<Vec<KeyValue>> {
    fn of<T>(d: &MetricData<T>) -> Vec<Vec<KeyValue>> {
        match d {
            MetricData::Gauge(g) => g
                .data_points()
                .map(|p| p.attributes().cloned().collect())
                .collect(),
            MetricData::Sum(s) => s
                .data_points()
                .map(|p| p.attributes().cloned().collect())
                .collect(),
            MetricData::Histogram(h) => h
                .data_points()
                .map(|p| p.attributes().cloned().collect())
                .collect(),
            MetricData::ExponentialHistogram(h) => h
                .data_points()
                .map(|p| p.attributes().cloned().collect())
                .collect(),
        }
    }
    match data {
        AggregatedMetrics::F64(d) => of(d),
        AggregatedMetrics::U64(d) => of(d),
        AggregatedMetrics::I64(d) => of(d),
    }
}

/// A log value as text (nested values included).
fn any_text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.to_string(),
        AnyValue::ListAny(items) => items.iter().map(any_text).collect::<Vec<_>>().join(" "),
        AnyValue::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", any_text(v)))
            .collect::<Vec<_>>()
            .join(" "),
        AnyValue::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

/// At most 200 chars of `text`, for readable leak reports.
fn cap(text: &str) -> String {
    if text.len() <= 200 {
        return text.to_string();
    }
    let mut end = 200;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], text.len())
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
    /// Asserts status `Error` and an `error.type` attribute (semconv: every failure has one;
    /// a response code is not an exception, so no event is required).
    fn assert_error(&self) -> &Self;
    /// Asserts an `exception` span event exists (a real error under the default signal).
    fn assert_exception(&self) -> &Self;
    /// Asserts no `exception` span event exists.
    fn assert_no_exception(&self) -> &Self;
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
            self.attr("error.type").is_some(),
            "span {:?} has status Error but no error.type; span: {}",
            self.name,
            describe(std::slice::from_ref(self))
        );
        self
    }

    fn assert_exception(&self) -> &Self {
        assert!(
            self.events.iter().any(|e| e.name == "exception"),
            "span {:?} has no exception event",
            self.name
        );
        self
    }

    fn assert_no_exception(&self) -> &Self {
        assert!(
            !self.events.iter().any(|e| e.name == "exception"),
            "span {:?} has an exception event",
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

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::trace::{Span as _, Tracer as _};

    #[test]
    fn leaks_finds_a_planted_secret_in_every_place() {
        let t = TestTelemetry::new();
        let s = "PLANTED-7f3a";
        let tracer = t.tracer("kit");
        for place in ["name", "attr", "event", "status"] {
            let name = if place == "name" {
                format!("x{s}")
            } else {
                "ok".into()
            };
            let mut span = tracer.start(name);
            match place {
                "attr" => span.set_attribute(KeyValue::new("k", format!("v{s}"))),
                "event" => span.add_event("e", vec![KeyValue::new("m", s.to_string())]),
                "status" => span.set_status(Status::error(format!("d{s}"))),
                _ => {}
            }
            span.end();
        }
        let counter = t.meter_provider.meter("kit").u64_counter("c").build();
        counter.add(1, &[KeyValue::new("a", s.to_string())]);
        counter.add(1, &[KeyValue::new("a", "clean")]);
        let logger = t.logger_provider.logger("kit");
        let mut record = logger.create_log_record();
        record.set_body(AnyValue::String(format!("b{s}").into()));
        logger.emit(record);

        let found = t.leaks(s);
        for place in [
            "name",
            "attribute k",
            "event e attribute m",
            "status",
            "metric c",
            "body",
        ] {
            assert!(
                found.iter().any(|f| f.contains(place)),
                "{place} not reported: {found:?}"
            );
        }
        assert!(t.leaks("absent-needle").is_empty());
        assert_eq!(t.series("c"), 2);
        assert_eq!(t.series("no-such-metric"), 0);
    }
}
