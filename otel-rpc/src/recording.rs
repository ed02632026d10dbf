//! [`Recording`]: one started operation, ended exactly once with an [`Outcome`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::context::{FutureExt, WithContext};
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, Key, KeyValue, Value};
use opentelemetry_semantic_conventions::attribute;

use crate::classify::{Observed, Verdict};
use crate::conventions::Domain;
use crate::metric::PreparedMetric;
use crate::metric::{HttpState, bound_metric_value};
use crate::outcome::{Failure, Outcome};
use crate::state::RecorderState;
use crate::text::truncate;
use crate::untrusted::{MAX_NAME_LEN, OTHER, cap_attribute};

/// A started span plus what is needed to end it and record its duration.
///
/// End it with [`end`](Self::end) or [`end_at`](Self::end_at). A `Recording` dropped without
/// an explicit end (its future was cancelled, a timeout fired) ends its span with
/// [`Outcome::Cancelled`], so no span is ever left open.
#[must_use = "a Recording ends its span when ended or dropped"]
pub struct Recording {
    cx: Context,
    active: Option<Active>,
}

struct Active {
    recorder: Arc<RecorderState>,
    started: Started,
    metric_attrs: MetricAttrs,
    recording: bool,
    /// The opted-in HTTP metrics beside the duration (active requests, body sizes).
    http: Option<Box<HttpState>>,
}

enum Started {
    Now(Instant),
    At(SystemTime),
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("span", self.cx.span().span_context())
            .field("active", &self.active.is_some())
            .finish()
    }
}

impl Recording {
    pub(crate) fn new(
        cx: Context,
        recorder: Arc<RecorderState>,
        start: Option<SystemTime>,
        now: Option<Instant>,
        metric_attrs: MetricAttrs,
        recording: bool,
    ) -> Self {
        let started = match (start, now) {
            (Some(t), _) => Started::At(t),
            (None, Some(now)) => Started::Now(now),
            (None, None) => Started::Now(Instant::now()),
        };
        Recording {
            cx,
            active: Some(Active {
                recorder,
                started,
                metric_attrs,
                recording,
                http: None,
            }),
        }
    }

    /// Starts the opted-in HTTP metrics of this operation (the active-requests increment).
    pub(crate) fn start_http(
        &mut self,
        instruments: std::sync::Arc<crate::metric::HttpInstruments>,
    ) {
        if let Some(active) = &mut self.active {
            active.http = Some(Box::new(HttpState::start(
                instruments,
                &active.metric_attrs,
            )));
        }
    }

    /// `true` when this operation records body sizes.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn wants_body_sizes(&self) -> bool {
        self.active
            .as_ref()
            .and_then(|a| a.http.as_ref())
            .is_some_and(|h| h.body_sizes())
    }

    /// Sets the request body size (bytes), when body sizes are recorded.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn set_request_body_size(&mut self, bytes: u64) {
        if let Some(h) = self.active.as_mut().and_then(|a| a.http.as_mut()) {
            h.request_size = Some(bytes);
        }
    }

    /// Adds `bytes` to the response body size, when body sizes are recorded.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn add_response_body_bytes(&mut self, bytes: u64) {
        if let Some(h) = self.active.as_mut().and_then(|a| a.http.as_mut()) {
            h.response_size = Some(h.response_size.unwrap_or(0).saturating_add(bytes));
        }
    }

    /// A recording that records nothing (telemetry is suppressed in the parent context).
    pub(crate) fn suppressed(cx: Context) -> Self {
        Recording { cx, active: None }
    }

    /// The context holding this operation's span: the parent for nested work and the context
    /// a client injects into outgoing requests.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// `true` when the span is sampled and recording: only then is building expensive
    /// attributes worth it.
    pub fn is_recording(&self) -> bool {
        self.active.as_ref().is_some_and(|a| a.recording)
    }

    /// Sets a span attribute (ignored when the span is not recording), capped by the one
    /// attribute cap rule (see `untrusted`).
    pub fn set_attribute(&self, mut kv: KeyValue) {
        if let Some(active) = &self.active
            && active.recording
        {
            cap_attribute(&mut kv);
            set_span_attribute(&self.cx, &active.recorder, kv);
        }
    }

    /// Sets a span attribute and, when the metric allow-list has its key, a metric attribute
    /// (e.g. `http.response.status_code`; a string value is capped at 255 bytes on the metric).
    pub fn set_metric_attribute(&mut self, mut kv: KeyValue) {
        cap_attribute(&mut kv);
        if let Some(active) = &mut self.active {
            if active.recorder.metrics && active.recorder.metric.allows(kv.key.as_str()) {
                active.metric_attrs.push(bound_metric_value(kv.clone()));
            }
            if active.recording {
                set_span_attribute(&self.cx, &active.recorder, kv);
            }
        }
    }

    /// Offers the metric attributes to `series` (a layer's bound series, see
    /// `layer::series`), which may give back the same attributes as a shared series bound to
    /// the duration histogram; the point is then recorded through it.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn share_metric_series(
        &mut self,
        series: impl FnOnce(&[KeyValue]) -> Option<Arc<PreparedMetric>>,
    ) {
        if let Some(active) = &mut self.active
            && active.recorder.metrics
            && let MetricAttrs::Owned(attributes) = &active.metric_attrs
            && let Some(shared) = series(attributes)
        {
            active.metric_attrs = MetricAttrs::Shared(shared);
        }
    }

    /// Renames the span (e.g. once the route is known).
    pub fn update_name(&self, name: impl Into<std::borrow::Cow<'static, str>>) {
        if self.is_recording() {
            self.cx.span().update_name(name.into());
        }
    }

    /// Ends the operation now.
    pub fn end(mut self, outcome: Outcome<'_>) {
        self.finish(None, outcome);
    }

    /// Ends the operation at `end` (for event-driven sources). The recorded duration is
    /// `end - start` when the recording was started with an explicit time, else the time
    /// measured since it started.
    pub fn end_at(mut self, end: SystemTime, outcome: Outcome<'_>) {
        self.finish(Some(end), outcome);
    }

    /// Runs `fut` with this recording's context as the current context, so spans started
    /// inside (including by other adapters) become its children.
    pub fn in_scope<F: Future>(&self, fut: F) -> WithContext<F> {
        fut.with_context(self.cx.clone())
    }

    /// Runs `fut` inside this recording's context and ends the recording with its result: an
    /// `Err` becomes [`Failure::from_error`] (`error.type` `_OTHER`, an exception, no message). Dropping the returned future before it
    /// completes ends the span as cancelled.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use opentelemetry::{Context, trace::SpanKind};
    /// use otel_rpc::SpanRecorder;
    ///
    /// let recorder = SpanRecorder::builder(SpanKind::Internal, "example").build();
    /// let recording = recorder.start(&Context::current(), "work", vec![]);
    /// let value: Result<u32, std::io::Error> = recording.run(async { Ok(42) }).await;
    /// assert_eq!(value.unwrap(), 42);
    /// # }
    /// ```
    pub async fn run<F, T, E>(self, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: std::error::Error,
    {
        let result = fut.with_context(self.cx.clone()).await;
        match &result {
            Ok(_) => self.end(Outcome::Success),
            Err(e) => self.end(Outcome::Failure(Failure::from_error(e))),
        }
        result
    }

    fn finish(&mut self, end: Option<SystemTime>, outcome: Outcome<'_>) {
        let Some(mut active) = self.active.take() else {
            return;
        };
        let Active {
            recorder,
            metric_attrs,
            recording,
            http,
            ..
        } = &mut active;
        let (mut failure, cancelled) = match outcome {
            Outcome::Success => (None, false),
            Outcome::Failure(f) => (Some(f), false),
            Outcome::Cancelled => (Some(Failure::new(Outcome::CANCELLED_ERROR_TYPE)), true),
        };
        // Database outcomes go through the user's rule here; layers classify their own.
        if recorder.domain == Domain::Db
            && !cancelled
            && let Some(classify) = &recorder.classifier
        {
            let observed = Observed::Db {
                status_code: failure.as_ref().and_then(|f| f.status_code.as_deref()),
                error_type: failure.as_ref().map(|f| f.error_type.as_ref()),
            };
            match (classify(&observed), failure.is_some()) {
                (Some(Verdict::NotError), true) => {
                    // Expected: no error, but the server's code is still worth keeping.
                    if let Some(code) = failure
                        .take()
                        .and_then(|f| f.status_code)
                        .and_then(|c| status_code_kv(recorder, &c))
                    {
                        push_metric_attr(recorder, metric_attrs, &code);
                        if *recording {
                            set_span_attribute(&self.cx, recorder, code);
                        }
                    }
                }
                (Some(Verdict::Error), false) => failure = Some(Failure::new(OTHER)),
                _ => {}
            }
        }
        let span = self.cx.span();
        if let Some(f) = &failure {
            // Adapters give classes from closed sets; the cap is the last line of defence.
            let error_type = KeyValue::new(
                attribute::ERROR_TYPE,
                truncate(&f.error_type, MAX_NAME_LEN).into_owned(),
            );
            let status_code = f
                .status_code
                .as_ref()
                .and_then(|c| status_code_kv(recorder, c));
            if recorder.metrics {
                metric_attrs.push(error_type.clone());
                if let Some(code) = &status_code {
                    push_metric_attr(recorder, metric_attrs, code);
                }
            }
            if f.exception {
                let signal = recorder.exception_signal;
                if *recording && signal.span_event() {
                    let mut attrs = Vec::with_capacity(2);
                    attrs.push(KeyValue::new(
                        attribute::EXCEPTION_TYPE,
                        error_type.value.clone(),
                    ));
                    if let Some(message) = &f.message {
                        attrs.push(KeyValue::new(
                            attribute::EXCEPTION_MESSAGE,
                            message.to_string(),
                        ));
                    }
                    span.add_event("exception", attrs);
                }
                if signal.logs()
                    && let Some(logger) = &recorder.providers.load().logger
                {
                    let message = f.message.as_ref().map(|m| {
                        (
                            Key::from_static_str(attribute::EXCEPTION_MESSAGE),
                            Value::from(m.to_string()),
                        )
                    });
                    let mut attrs = [
                        (
                            Key::from_static_str(attribute::EXCEPTION_TYPE),
                            error_type.value.clone(),
                        ),
                        (
                            Key::from_static_str(attribute::ERROR_TYPE),
                            error_type.value.clone(),
                        ),
                    ]
                    .into_iter()
                    .chain(message);
                    logger.emit(
                        recorder.domain.exception_event_name(),
                        span.span_context(),
                        &mut attrs,
                    );
                }
            }
            if *recording {
                span.set_attribute(error_type);
                if let Some(code) = status_code {
                    set_span_attribute(&self.cx, recorder, code);
                }
                span.set_status(match &f.message {
                    Some(message) => Status::error(message.to_string()),
                    None => Status::error(""),
                });
            }
        }
        if *recording && let Some(http) = http {
            for (key, size) in [
                (attribute::HTTP_REQUEST_BODY_SIZE, http.request_size),
                (attribute::HTTP_RESPONSE_BODY_SIZE, http.response_size),
            ] {
                if let Some(size) = size {
                    let size = i64::try_from(size).unwrap_or(i64::MAX);
                    set_span_attribute(&self.cx, recorder, KeyValue::new(key, size));
                }
            }
        }
        let elapsed = match (&active.started, end) {
            (Started::At(start), Some(end)) => end.duration_since(*start).unwrap_or(Duration::ZERO),
            (Started::At(start), None) => SystemTime::now()
                .duration_since(*start)
                .unwrap_or(Duration::ZERO),
            (Started::Now(instant), _) => instant.elapsed(),
        };
        match end {
            Some(end) => span.end_with_timestamp(end),
            None => span.end(),
        }
        // Exemplar-ready: the points of a sampled operation are recorded with its context
        // current (its span, not the caller's), so an SDK sampling exemplars links them to the
        // operation. An unsampled operation's span is exported nowhere, so an exemplar could
        // link to nothing: its points skip the attach (~0.38k instructions).
        let instruments = active.recorder.providers.load();
        if instruments.duration.is_some() || active.http.is_some() {
            let _current = active.recording.then(|| self.cx.clone().attach());
            if let Some(duration) = &instruments.duration {
                active.metric_attrs.record(
                    duration.duration(),
                    instruments.duration_binds,
                    elapsed.as_secs_f64(),
                );
            }
            if let Some(http) = active.http.take() {
                http.finish(&active.metric_attrs);
            }
        }
    }
}

/// Sets an (already capped) attribute on the span of `cx` and, in a `*/dup` mode, its copy
/// under the previous name: the one place a recording writes span attributes after the start.
fn set_span_attribute(cx: &Context, recorder: &RecorderState, kv: KeyValue) {
    let span = cx.span();
    if let Some(copy) = recorder.previous.and_then(|p| p.copy(&kv, &[])) {
        span.set_attribute(copy);
    }
    span.set_attribute(kv);
}

/// Adds `kv` to the metric attributes when metrics are on and the allow-list has its key.
fn push_metric_attr(recorder: &RecorderState, metric_attrs: &mut MetricAttrs, kv: &KeyValue) {
    if recorder.metrics && recorder.metric.allows(kv.key.as_str()) {
        metric_attrs.push(kv.clone());
    }
}

/// The recorder's status code attribute for `code` (capped), when it has one.
fn status_code_kv(recorder: &RecorderState, code: &str) -> Option<KeyValue> {
    let key = recorder.status_code_key.as_ref()?;
    Some(KeyValue::new(
        key.clone(),
        truncate(code, MAX_NAME_LEN).into_owned(),
    ))
}

/// The metric attributes of one operation: shared with a
/// [`PreparedOperation`](crate::PreparedOperation) until the end adds one (a status code, `error.type`), then owned.
pub(crate) enum MetricAttrs {
    Owned(Vec<KeyValue>),
    Shared(Arc<PreparedMetric>),
}

impl Default for MetricAttrs {
    fn default() -> Self {
        MetricAttrs::Owned(Vec::new())
    }
}

impl MetricAttrs {
    /// Appends `kv`, copying shared attributes first (with room for the rest of the end).
    pub(crate) fn push(&mut self, kv: KeyValue) {
        match self {
            MetricAttrs::Owned(v) => v.push(kv),
            MetricAttrs::Shared(shared) => {
                let shared = &shared.attributes;
                let mut v = Vec::with_capacity(shared.len() + crate::metric::END_ATTRIBUTES);
                v.extend(shared.iter().cloned());
                v.push(kv);
                *self = MetricAttrs::Owned(v);
            }
        }
    }
}

impl std::ops::Deref for MetricAttrs {
    type Target = [KeyValue];

    fn deref(&self) -> &[KeyValue] {
        match self {
            MetricAttrs::Owned(v) => v,
            MetricAttrs::Shared(shared) => &shared.attributes,
        }
    }
}

impl MetricAttrs {
    /// Records `value` with these attributes on `histogram`: through the prepared operation's
    /// bound histogram while they are its own and `binds` (see `PreparedMetric`).
    fn record(&self, histogram: &opentelemetry::metrics::Histogram<f64>, binds: bool, value: f64) {
        match self {
            MetricAttrs::Owned(v) => histogram.record(value, v),
            MetricAttrs::Shared(prepared) => prepared.record(histogram, binds, value),
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if self.active.is_some() {
            self.finish(None, Outcome::Cancelled);
        }
    }
}
