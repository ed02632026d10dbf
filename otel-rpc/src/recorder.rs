//! [`SpanRecorder`]: one per span kind and domain, holding tracer, propagator and the duration
//! histogram; the kratos `NewTracer(kind)` generalised.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use opentelemetry::metrics::MeterProvider;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{Span, SpanBuilder, SpanKind, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, InstrumentationScope, Key, KeyValue};

use crate::classify::{Classifier, Observed, Verdict, default_verdict};
use crate::conventions::Domain;
use crate::db::DbOperation;
use crate::exception::ExceptionSignal;
use crate::metric::{DurationMetric, bound_metric_value};
use crate::propagation::extractor::BoundedExtractor;
use crate::propagation::{SharedPropagator, default_propagator};
use crate::providers::{Providers, RecorderTracer, Resolver};
use crate::recording::{MetricAttrs, Recording};
use crate::state::RecorderState;
use crate::untrusted::{ErrorTextMode, cap_attribute};

/// Starts and ends spans of one kind for one domain (HTTP server, gRPC client, a database
/// driver, ...), records the `*.duration` histogram and propagates context.
///
/// Cheap to clone (an `Arc`). Without [`SpanRecorderBuilder::tracer_provider`] /
/// [`SpanRecorderBuilder::meter_provider`] it records with the global providers, including
/// ones installed after it was built: it re-reads them at most every 100 ms, on an operation
/// (no lock or allocation on the other operations).
///
/// ```
/// use opentelemetry::{Context, KeyValue};
/// use opentelemetry::trace::SpanKind;
/// use otel_rpc::{Outcome, SpanRecorder};
///
/// let recorder = SpanRecorder::builder(SpanKind::Client, "my-driver").build();
/// let recording = recorder.start(&Context::current(), "GET", vec![KeyValue::new("db.system.name", "redis")]);
/// // ... run the operation with `recording.context()` as the parent of nested work ...
/// recording.end(Outcome::Success);
/// ```
#[derive(Clone)]
pub struct SpanRecorder {
    pub(crate) inner: Arc<RecorderState>,
}

impl fmt::Debug for SpanRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanRecorder")
            .field("kind", &self.inner.kind)
            .field("metric", &self.inner.metric.name)
            .field("metrics_enabled", &self.inner.metrics)
            .field("domain", &self.inner.domain)
            .field("exception_signal", &self.inner.exception_signal)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SpanRecorder`]; see [`SpanRecorder::builder`].
#[must_use]
pub struct SpanRecorderBuilder {
    kind: SpanKind,
    scope_name: Cow<'static, str>,
    scope_version: Option<Cow<'static, str>>,
    providers: Providers,
    metric: DurationMetric,
    metrics_enabled: bool,
    status_code_key: Option<Key>,
    domain: Option<Domain>,
    classifier: Option<Classifier>,
    exception_signal: Option<ExceptionSignal>,
    error_text: ErrorTextMode,
    require_parent: bool,
    semconv_stability: Option<crate::semconv_mode::SemconvStability>,
}

impl fmt::Debug for SpanRecorderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanRecorderBuilder")
            .field("kind", &self.kind)
            .field("scope_name", &self.scope_name)
            .finish_non_exhaustive()
    }
}

impl SpanRecorder {
    /// A builder for spans of `kind`, reported under instrumentation scope `scope`
    /// (conventionally the adapter crate's name). Defaults: global tracer and meter providers,
    /// W3C TraceContext + Baggage propagation, `db.client.operation.duration` histogram.
    pub fn builder(kind: SpanKind, scope: impl Into<Cow<'static, str>>) -> SpanRecorderBuilder {
        SpanRecorderBuilder {
            kind,
            scope_name: scope.into(),
            scope_version: None,
            providers: Providers::default(),
            metric: DurationMetric::db_client(),
            metrics_enabled: true,
            status_code_key: None,
            domain: None,
            classifier: None,
            exception_signal: None,
            error_text: ErrorTextMode::Off,
            require_parent: false,
            semconv_stability: None,
        }
    }

    /// The domain this recorder records for.
    pub fn domain(&self) -> Domain {
        self.inner.domain
    }

    /// The user's classification of `observed`: `Some` decides, `None` means the default rule
    /// applies (see [`verdict`](Self::verdict)). Layers call it for HTTP / gRPC outcomes;
    /// [`Recording::end`] applies it to database outcomes itself.
    pub fn classify(&self, observed: &Observed<'_>) -> Option<Verdict> {
        self.inner.classifier.as_ref().and_then(|c| c(observed))
    }

    /// The verdict for `observed`: the user's rule, else the conventions' default for this
    /// recorder's span kind (the conventions' default).
    pub fn verdict(&self, observed: &Observed<'_>) -> Verdict {
        self.classify(observed)
            .unwrap_or_else(|| default_verdict(&self.inner.kind, observed))
    }

    /// How much untrusted error text adapters using this recorder record.
    pub fn error_text(&self) -> ErrorTextMode {
        self.inner.error_text
    }

    /// Where exceptions go.
    pub fn exception_signal(&self) -> ExceptionSignal {
        self.inner.exception_signal
    }

    /// The span kind of this recorder.
    pub fn kind(&self) -> SpanKind {
        self.inner.kind.clone()
    }

    /// The propagator used by [`extract`](Self::extract) and [`inject`](Self::inject).
    pub fn propagator(&self) -> &SharedPropagator {
        &self.inner.propagator
    }

    /// Starts a span named `name` under `parent` now.
    ///
    /// `attributes` are visible to the sampler and are the source of the metric attributes
    /// (filtered by the metric's allow-list).
    pub fn start(
        &self,
        parent: &Context,
        name: impl Into<Cow<'static, str>>,
        attributes: Vec<KeyValue>,
    ) -> Recording {
        self.start_with(parent, None, name.into(), attributes, |_| {})
    }

    /// Starts a span with an explicit start time, for event-driven sources that learn about an
    /// operation after it began (e.g. driver command events).
    pub fn start_at(
        &self,
        parent: &Context,
        start: SystemTime,
        name: impl Into<Cow<'static, str>>,
        attributes: Vec<KeyValue>,
    ) -> Recording {
        self.start_with(parent, Some(start), name.into(), attributes, |_| {})
    }

    /// The general form: `attributes` are built always (sampler + metric), `details` only when
    /// the span is recording, so unsampled operations pay for no expensive attribute (query
    /// text, URLs, ...). `start` of `None` means now.
    pub fn start_with(
        &self,
        parent: &Context,
        start: Option<SystemTime>,
        name: Cow<'static, str>,
        attributes: Vec<KeyValue>,
        details: impl FnOnce(&mut Vec<KeyValue>),
    ) -> Recording {
        let inner = &self.inner;
        let metric_attrs = if inner.metrics {
            // Sized up front (a `filter().collect()` starts at 4 and reallocates on the way),
            // with room for what the end adds (status code, `error.type`).
            let mut allowed = Vec::with_capacity(attributes.len() + crate::metric::END_ATTRIBUTES);
            allowed.extend(
                attributes
                    .iter()
                    .filter(|kv| inner.metric.allows(kv.key.as_str()))
                    .cloned()
                    .map(bound_metric_value),
            );
            if let Some(distinct) = &inner.db_distinct {
                distinct.apply_by_key(&mut allowed);
            }
            allowed
        } else {
            Vec::new()
        };
        self.start_span(
            parent,
            start,
            name,
            || capped(attributes),
            MetricAttrs::Owned(metric_attrs),
            |add| detail_vec(details, add),
        )
    }

    /// Starts the span: `attributes` (built only when a span is started, already capped) go to
    /// the sampler, `metric_attrs` to the duration metric at the end, and `details` adds the
    /// span-only attributes (each capped here) only when the span is recording.
    pub(crate) fn start_span(
        &self,
        parent: &Context,
        start: Option<SystemTime>,
        name: Cow<'static, str>,
        attributes: impl FnOnce() -> Vec<KeyValue>,
        metric_attrs: MetricAttrs,
        details: impl FnOnce(&mut dyn FnMut(KeyValue)),
    ) -> Recording {
        if parent.is_telemetry_suppressed() {
            return Recording::suppressed(parent.clone());
        }
        let inner = &self.inner;
        // The start instant doubles as the clock of the providers' refresh check.
        let now = (start.is_none() || inner.providers.follows_globals()).then(Instant::now);
        if inner.require_parent && !parent.has_active_span() {
            // No trace to join: the operation is measured (metric) but starts no root trace.
            return Recording::new(
                parent.clone(),
                Arc::clone(&self.inner),
                start,
                now,
                metric_attrs,
                false,
            );
        }
        let attributes = attributes();
        // `*/dup` modes: the start attributes, to copy under their previous names (and to
        // look up what a copy depends on) once the span is known to record.
        let dup_context = inner.previous.is_some().then(|| attributes.clone());
        let resolved = match now {
            Some(now) => inner.providers.load_at(now),
            None => inner.providers.load(),
        };
        // Fields set in place: each `with_*` call moves the whole (large) builder.
        let mut builder = SpanBuilder::from_name(name);
        builder.span_kind = Some(inner.kind.clone());
        builder.attributes = Some(attributes);
        builder.start_time = start;
        let http = resolved.duration.as_ref().and_then(|i| i.http.clone());
        let (cx, recording) = match &*resolved.tracer {
            RecorderTracer::Sdk(tracer) => enter(
                tracer.build_with_context(builder, parent),
                parent,
                inner,
                dup_context,
                details,
            ),
            RecorderTracer::Dynamic(tracer) => enter(
                tracer.build_with_context(builder, parent),
                parent,
                inner,
                dup_context,
                details,
            ),
        };
        drop(resolved);
        let mut started = Recording::new(
            cx,
            Arc::clone(&self.inner),
            start,
            now,
            metric_attrs,
            recording,
        );
        if let Some(http) = http {
            started.start_http(http);
        }
        started
    }

    /// Server side: the parent context carried by an incoming request (W3C `traceparent`,
    /// `tracestate`, `baggage` by default). Malformed, truncated or oversized values are
    /// ignored and the result then holds no remote parent, so the server span starts a new
    /// trace. The in-process current context is not consulted: a server span's parent is what
    /// the peer sent.
    pub fn extract(&self, carrier: &dyn Extractor) -> Context {
        self.extract_with_context(&Context::new(), carrier)
    }

    /// Like [`extract`](Self::extract), adding what the carrier holds to `cx`.
    pub fn extract_with_context(&self, cx: &Context, carrier: &dyn Extractor) -> Context {
        self.inner
            .propagator
            .extract_with_context(cx, &BoundedExtractor::new(carrier))
    }

    /// Client side: writes `cx` (normally [`Recording::context`]) into an outgoing carrier.
    pub fn inject(&self, cx: &Context, carrier: &mut dyn Injector) {
        self.inner.propagator.inject_context(cx, carrier);
    }
}

impl SpanRecorder {
    /// Starts a database client span for `op` under `parent` now. The query text is built only
    /// when the span is recording.
    pub fn start_db(&self, parent: &Context, op: &DbOperation<'_>) -> Recording {
        self.start_db_inner(parent, None, op)
    }

    /// Starts a database client span for `op` at `start` (event-driven drivers).
    pub fn start_db_at(
        &self,
        parent: &Context,
        start: SystemTime,
        op: &DbOperation<'_>,
    ) -> Recording {
        self.start_db_inner(parent, Some(start), op)
    }

    fn start_db_inner(
        &self,
        parent: &Context,
        start: Option<SystemTime>,
        op: &DbOperation<'_>,
    ) -> Recording {
        self.start_db_with(parent, start, op.span_name(), op, |_| {})
    }

    /// The general database form: `op` under `parent`, named `name` (an adapter's own naming,
    /// e.g. a user hook), at `start` (`None`: now); `details` adds span-only attributes after
    /// the query text and `op.extra`, and is called only when the span is recording.
    ///
    /// Prefer it to [`start_with`](Self::start_with)`(.., op.attributes(), ..)`: the metric
    /// attributes are selected while the span attributes are built, without comparing keys.
    pub fn start_db_with(
        &self,
        parent: &Context,
        start: Option<SystemTime>,
        name: Cow<'static, str>,
        op: &DbOperation<'_>,
        details: impl FnOnce(&mut Vec<KeyValue>),
    ) -> Recording {
        let inner = &self.inner;
        let mask = if inner.metrics {
            inner.db_metric_mask
        } else {
            0
        };
        let (attributes, metric_attrs) =
            op.attributes_with_metric(mask, inner.db_distinct.as_ref());
        self.start_span(
            parent,
            start,
            name,
            || capped(attributes),
            MetricAttrs::Owned(metric_attrs),
            |add| {
                op.for_each_detail(&mut *add);
                detail_vec(details, add);
            },
        )
    }
}

/// The context of a started `span` under `parent`, and whether it records; `details` runs (each
/// attribute capped, copied under its previous name in a `*/dup` mode, `dup_context` being the
/// start attributes) only when it records.
///
/// A span that does not record ignores every call and reaches no processor (the API's contract
/// for `is_recording() == false`), so its context holds only its `SpanContext`: nested work and
/// injected headers see the same trace, span id and flags, and the span itself is dropped here
/// instead of being boxed into the context (one or two allocations fewer per unsampled
/// operation).
fn enter<S: Span + Send + Sync + 'static>(
    mut span: S,
    parent: &Context,
    inner: &RecorderState,
    dup_context: Option<Vec<KeyValue>>,
    details: impl FnOnce(&mut dyn FnMut(KeyValue)),
) -> (Context, bool) {
    if !span.is_recording() {
        return (
            parent.with_remote_span_context(span.span_context().clone()),
            false,
        );
    }
    match (&inner.previous, &dup_context) {
        (Some(previous), Some(context)) => {
            let mut extra = Vec::new();
            details(&mut |mut kv| {
                cap_attribute(&mut kv);
                extra.push(kv);
            });
            let mut copies = Vec::new();
            previous.extend(context, context, &mut copies);
            previous.extend(&extra, context, &mut copies);
            extra.append(&mut copies);
            if !extra.is_empty() {
                span.set_attributes(extra);
            }
        }
        // One by one into the span's own list (which has room for them): no vector.
        _ => details(&mut |mut kv| {
            cap_attribute(&mut kv);
            span.set_attribute(kv);
        }),
    }
    (parent.with_span(span), true)
}

/// `attributes`, each capped by the one attribute cap rule.
fn capped(mut attributes: Vec<KeyValue>) -> Vec<KeyValue> {
    attributes.iter_mut().for_each(cap_attribute);
    attributes
}

/// Runs a `details` closure of the public forms and hands what it added to `add` (no
/// allocation when it adds nothing).
fn detail_vec(details: impl FnOnce(&mut Vec<KeyValue>), add: &mut dyn FnMut(KeyValue)) {
    let mut extra = Vec::new();
    details(&mut extra);
    extra.into_iter().for_each(add);
}

impl SpanRecorderBuilder {
    /// The instrumentation scope version (e.g. `env!("CARGO_PKG_VERSION")`).
    pub fn scope_version(mut self, version: impl Into<Cow<'static, str>>) -> Self {
        self.scope_version = Some(version.into());
        self
    }

    /// Uses `provider` instead of the global tracer provider.
    pub fn tracer_provider<P>(mut self, provider: P) -> Self
    where
        P: TracerProvider + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.providers.set_tracer_provider(provider);
        self
    }

    /// Uses `provider` instead of the global meter provider.
    pub fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        self.providers.set_meter_provider(provider);
        self
    }

    /// Replaces the default W3C TraceContext + Baggage propagator.
    pub fn propagator(mut self, propagator: SharedPropagator) -> Self {
        self.providers.propagator = Some(propagator);
        self
    }

    /// Describes the duration histogram (name, buckets, attribute allow-list).
    pub fn duration_metric(mut self, metric: DurationMetric) -> Self {
        self.metric = metric;
        self
    }

    /// The domain recorded for (schema URL, exception event name, database classification).
    /// Default: the domain of the duration metric's name, else [`Domain::Db`].
    pub fn domain(mut self, domain: Domain) -> Self {
        self.domain = Some(domain);
        self
    }

    /// A classification rule (see `classify`).
    pub fn classifier(mut self, classifier: Classifier) -> Self {
        self.classifier = Some(classifier);
        self
    }

    /// Where exceptions go; default [`ExceptionSignal::from_env`], read by [`build`](Self::build).
    pub fn exception_signal(mut self, signal: ExceptionSignal) -> Self {
        self.exception_signal = Some(signal);
        self
    }

    /// The logger provider for exception log records, instead of the one installed with
    /// [`crate::exception::set_logger_provider`].
    pub fn logger_provider<P>(mut self, provider: P) -> Self
    where
        P: opentelemetry::logs::LoggerProvider + Send + Sync + 'static,
        P::Logger: Send + Sync + 'static,
    {
        self.providers.set_logger_provider(provider);
        self
    }

    /// How much untrusted error text adapters using this recorder record (read back with
    /// [`SpanRecorder::error_text`]).
    pub fn error_text(mut self, mode: ErrorTextMode) -> Self {
        self.error_text = mode;
        self
    }

    /// Uses the providers an adapter's options were given (see [`Providers`]).
    pub(crate) fn providers(mut self, providers: Providers) -> Self {
        self.providers = providers;
        self
    }

    /// Turns the duration histogram off (spans only).
    pub fn disable_metrics(mut self) -> Self {
        self.metrics_enabled = false;
        self
    }

    /// The attribute that carries [`Failure::status_code`](crate::Failure::status_code),
    /// e.g. `db.response.status_code` or `rpc.response.status_code`.
    pub fn status_code_attribute(mut self, key: &'static str) -> Self {
        self.status_code_key = Some(Key::from_static_str(key));
        self
    }

    /// Which domains also write the previous attribute names on spans (see
    /// [`SemconvStability`](crate::SemconvStability)); default [`SemconvStability::from_env`](crate::SemconvStability::from_env)
    /// (`OTEL_SEMCONV_STABILITY_OPT_IN`), read by [`build`](Self::build).
    pub fn semconv_stability(mut self, mode: crate::semconv_mode::SemconvStability) -> Self {
        self.semconv_stability = Some(mode);
        self
    }

    /// With `true`, an operation whose parent context holds no span (local or remote) records
    /// its duration metric but no span, so background work does not start a root trace per
    /// operation. Default `false`.
    pub fn require_parent(mut self, on: bool) -> Self {
        self.require_parent = on;
        self
    }

    /// Builds the recorder.
    pub fn build(self) -> SpanRecorder {
        let domain = self
            .domain
            .or_else(|| Domain::from_metric_name(&self.metric.name))
            .unwrap_or(Domain::Db);
        let exception_signal = self
            .exception_signal
            .unwrap_or_else(ExceptionSignal::from_env);
        let mut scope =
            InstrumentationScope::builder(self.scope_name).with_schema_url(domain.schema_url());
        if let Some(v) = self.scope_version {
            scope = scope.with_version(v);
        }
        let scope = scope.build();
        let given = self.providers.given(
            &scope,
            self.metrics_enabled.then_some(&self.metric),
            exception_signal.logs(),
        );
        let providers = Resolver::new(given, scope, &self.metric);
        let db_distinct = self
            .metrics_enabled
            .then(|| self.metric.distinct_values())
            .flatten();
        let previous = self
            .semconv_stability
            .unwrap_or_else(crate::semconv_mode::SemconvStability::from_env)
            .previous_names(domain, &self.kind);
        SpanRecorder {
            inner: Arc::new(RecorderState {
                previous,
                kind: self.kind,
                providers,
                metrics: self.metrics_enabled,
                propagator: self.providers.propagator.unwrap_or_else(default_propagator),
                db_metric_mask: crate::db::metric_mask(&self.metric),
                db_distinct,
                metric: self.metric,
                status_code_key: self.status_code_key,
                domain,
                classifier: self.classifier,
                exception_signal,
                error_text: self.error_text,
                require_parent: self.require_parent,
            }),
        }
    }
}

#[cfg(test)]
mod db_tests {
    //! The database paths of the recorder: open operation names, the distinct-values bound.
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_semantic_conventions::attribute;

    use crate::SpanRecorder;
    use crate::db::DbOperation;
    use crate::metric::DurationMetric;

    /// A recorder of `t` admitting `limit` distinct values per key.
    fn recorder(t: &otel_testkit::TestTelemetry, limit: usize) -> SpanRecorder {
        SpanRecorder::builder(opentelemetry::trace::SpanKind::Client, "test")
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .duration_metric(DurationMetric::db_client().with_max_distinct_values(limit))
            .build()
    }

    fn run(rec: &SpanRecorder, table: &str) {
        let op = DbOperation::new("postgresql")
            .namespace("shop")
            .summary(format!("SELECT {table}"));
        rec.start_db(&Context::new(), &op)
            .end(crate::Outcome::Success);
    }

    #[test]
    fn an_open_operation_is_named_on_the_span_and_other_on_the_metric() {
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 256);
        for name in ["connPoolStats", "top"] {
            let mut op = DbOperation::new("mongodb")
                .namespace("admin")
                .operation(name)
                .summary(format!("{name} admin"));
            op.open_operation = true;
            rec.start_db(&Context::new(), &op)
                .end(crate::Outcome::Success);
        }
        let span = t.span("top admin");
        let attr = |k: &str| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(attr(attribute::DB_OPERATION_NAME).as_deref(), Some("top"));
        assert_eq!(
            attr(attribute::DB_QUERY_SUMMARY).as_deref(),
            Some("top admin")
        );
        let points = t.histogram("db.client.operation.duration");
        assert_eq!(points.len(), 1, "one series for both names");
        assert_eq!(
            points[0].attr(attribute::DB_OPERATION_NAME).as_deref(),
            Some(crate::untrusted::OTHER)
        );
        assert_eq!(points[0].attr(attribute::DB_QUERY_SUMMARY), None);
        assert_eq!(points[0].count, 2);
    }

    #[test]
    fn new_names_after_the_limit_are_other_on_the_metric_only() {
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 2);
        for table in ["a", "b", "c", "d", "a", "b"] {
            run(&rec, table);
        }
        let points = t.histogram("db.client.operation.duration");
        let mut by_summary: Vec<(String, u64)> = points
            .iter()
            .map(|p| {
                (
                    p.attr(attribute::DB_QUERY_SUMMARY).unwrap_or_default(),
                    p.count,
                )
            })
            .collect();
        by_summary.sort();
        assert_eq!(
            by_summary,
            [
                ("SELECT a".to_owned(), 2),
                ("SELECT b".to_owned(), 2),
                (crate::untrusted::OTHER.to_owned(), 2),
            ]
        );
        for p in &points {
            assert_eq!(p.attr(attribute::DB_NAMESPACE).as_deref(), Some("shop"));
        }
        // The spans keep the real names.
        let names: Vec<String> = t.spans().iter().map(|s| s.name.to_string()).collect();
        assert_eq!(
            names,
            [
                "SELECT a", "SELECT b", "SELECT c", "SELECT d", "SELECT a", "SELECT b"
            ]
        );
        let summaries: Vec<String> = t
            .spans()
            .iter()
            .filter_map(|s| {
                s.attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == attribute::DB_QUERY_SUMMARY)
                    .map(|kv| kv.value.to_string())
            })
            .collect();
        assert_eq!(summaries, names);
    }

    #[test]
    fn the_generic_start_is_bounded_too() {
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 1);
        for table in ["a", "b", "c"] {
            let attrs = vec![
                KeyValue::new(attribute::DB_SYSTEM_NAME, "postgresql"),
                KeyValue::new(attribute::DB_QUERY_SUMMARY, format!("SELECT {table}")),
            ];
            rec.start(&Context::new(), "q", attrs)
                .end(crate::Outcome::Success);
        }
        let mut summaries: Vec<String> = t
            .histogram("db.client.operation.duration")
            .iter()
            .filter_map(|p| p.attr(attribute::DB_QUERY_SUMMARY))
            .collect();
        summaries.sort();
        assert_eq!(summaries, ["SELECT a", crate::untrusted::OTHER]);
    }

    #[test]
    fn usize_max_switches_the_bound_off() {
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, usize::MAX);
        for i in 0..300 {
            run(&rec, &format!("t_{i}"));
        }
        assert_eq!(t.series("db.client.operation.duration"), 300);
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, DurationMetric::DEFAULT_MAX_DISTINCT_VALUES);
        for i in 0..300 {
            run(&rec, &format!("t_{i}"));
        }
        assert_eq!(
            t.series("db.client.operation.duration"),
            DurationMetric::DEFAULT_MAX_DISTINCT_VALUES + 1,
            "256 admitted summaries and _OTHER"
        );
    }
}
