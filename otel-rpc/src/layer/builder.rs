//! [`LayerBuilder`]: the options every tracing layer shares (providers, propagator, span name,
//! request filter, extra attributes), plus the layer-specific options `O`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{Span, SpanKind, Tracer, TracerProvider};

use super::protocol::Protocol;
use super::rules::{Rules, Side};
use super::service::TraceLayer;
use crate::propagation::SharedPropagator;
use crate::{DurationMetric, SpanRecorder, SpanRecorderBuilder};

/// Names the span of a request (replaces the layer's default name).
pub type SpanNameFn = Arc<dyn Fn(&Parts) -> Cow<'static, str> + Send + Sync>;
/// Decides whether a request is traced: `false` means no span and no metric point.
pub type FilterFn = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;
/// Adds attributes of the request to its span (and, if their keys are on the metric's
/// allow-list, to the duration metric).
pub type AttributesFn = Arc<dyn Fn(&Parts, &mut Vec<KeyValue>) + Send + Sync>;

/// The scope every layer reports its spans and metrics under.
pub(crate) const SCOPE: &str = "otel-rpc";

/// Builds a tracing layer. Obtained from the layer's `builder()`, e.g.
/// [`HttpServerLayer::builder`](crate::http::HttpServerLayer::builder); the options in `O` are
/// specific to that layer, the methods here are common to all.
///
/// By default spans and metrics go to the global providers and the W3C TraceContext + Baggage
/// propagator is used.
#[must_use]
pub struct LayerBuilder<O> {
    recorder: SpanRecorderBuilder,
    prebuilt: Option<SpanRecorder>,
    side: Side,
    catch_panics: bool,
    pub(crate) metric: DurationMetric,
    pub(crate) hooks: Hooks,
    pub(crate) options: O,
}

impl<O: fmt::Debug> fmt::Debug for LayerBuilder<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The callbacks of a layer.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    span_name: Option<SpanNameFn>,
    filter: Option<FilterFn>,
    attributes: Option<AttributesFn>,
}

impl Hooks {
    /// `true` unless the filter rejects the request.
    pub(crate) fn traces(&self, parts: &Parts) -> bool {
        self.filter.as_ref().is_none_or(|f| f(parts))
    }

    /// The user's span name for the request, if a span name function is set.
    pub(crate) fn span_name(&self, parts: &Parts) -> Option<Cow<'static, str>> {
        self.span_name.as_ref().map(|f| f(parts))
    }

    /// Appends the user's attributes for the request.
    pub(crate) fn add_attributes(&self, parts: &Parts, attributes: &mut Vec<KeyValue>) {
        if let Some(f) = &self.attributes {
            f(parts, attributes);
        }
    }

    /// `true` when a callback needs to see the request.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn any(&self) -> bool {
        self.span_name.is_some() || self.filter.is_some() || self.attributes.is_some()
    }
}

/// What a built layer shares between its services.
pub struct Shared<O> {
    pub(crate) recorder: SpanRecorder,
    pub(crate) hooks: Hooks,
    pub(crate) rules: Arc<Rules>,
    pub(crate) options: O,
}

impl<O> LayerBuilder<O> {
    pub(crate) fn new(
        kind: SpanKind,
        metric: DurationMetric,
        status_code_attribute: Option<&'static str>,
        options: O,
    ) -> Self {
        let side = if kind == SpanKind::Server {
            Side::Server
        } else {
            Side::Client
        };
        let mut recorder =
            SpanRecorder::builder(kind, SCOPE).scope_version(env!("CARGO_PKG_VERSION"));
        if let Some(key) = status_code_attribute {
            recorder = recorder.status_code_attribute(key);
        }
        LayerBuilder {
            recorder,
            prebuilt: None,
            side,
            catch_panics: true,
            metric,
            hooks: Hooks::default(),
            options,
        }
    }

    /// Uses `provider` instead of the global tracer provider.
    pub fn tracer_provider<P>(mut self, provider: P) -> Self
    where
        P: TracerProvider + Send + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Span + Send + Sync + 'static,
    {
        self.recorder = self.recorder.tracer_provider(provider);
        self
    }

    /// Uses `provider` instead of the global meter provider.
    pub fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: MeterProvider + Send + 'static,
    {
        self.recorder = self.recorder.meter_provider(provider);
        self
    }

    /// Replaces the default W3C TraceContext + Baggage propagator.
    pub fn propagator(mut self, propagator: SharedPropagator) -> Self {
        self.recorder = self.recorder.propagator(propagator);
        self
    }

    /// Records spans only, no duration metric.
    pub fn disable_metrics(mut self) -> Self {
        self.recorder = self.recorder.disable_metrics();
        self
    }

    /// Uses a recorder you built yourself; the provider, propagator and metric settings of
    /// this builder are then ignored. Its span kind should match the layer's.
    pub fn recorder(mut self, recorder: SpanRecorder) -> Self {
        self.prebuilt = Some(recorder);
        self
    }

    /// Names spans with `f` instead of the layer's default rule. Keep names low-cardinality:
    /// never put raw paths or ids in them.
    pub fn span_name<F>(mut self, f: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Cow<'static, str> + Send + Sync + 'static,
    {
        self.hooks.span_name = Some(Arc::new(f));
        self
    }

    /// Traces only requests for which `f` returns `true`; the others get no span and no
    /// metric point (on the client side the current context is still propagated).
    ///
    /// ```
    /// # #[cfg(feature = "http")] {
    /// let layer = otel_rpc::http::HttpServerLayer::builder()
    ///     .filter(|req| req.uri.path() != "/healthz")
    ///     .build();
    /// # let _ = layer; }
    /// ```
    pub fn filter<F>(mut self, f: F) -> Self
    where
        F: Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    {
        self.hooks.filter = Some(Arc::new(f));
        self
    }

    /// Adds attributes taken from the request to every span (visible to the sampler).
    pub fn attributes<F>(mut self, f: F) -> Self
    where
        F: Fn(&http::request::Parts, &mut Vec<KeyValue>) + Send + Sync + 'static,
    {
        self.hooks.attributes = Some(Arc::new(f));
        self
    }

    /// Catches panics of the inner service: the span ends with `error.type` `panic` and the
    /// fixed description "the handler panicked", then the panic resumes unchanged (the
    /// application's own panic handling, e.g. tower-http's `CatchPanic` or the server's
    /// task, still sees it). On by default; with `false`, a panicking call's span ends as
    /// cancelled when the unwinding drops it.
    pub fn catch_panics(mut self, catch: bool) -> Self {
        self.catch_panics = catch;
        self
    }

    pub(crate) fn into_layer<P: Protocol<Options = O>>(self) -> TraceLayer<P> {
        let recorder = match self.prebuilt {
            Some(recorder) => recorder,
            None => self.recorder.duration_metric(self.metric).build(),
        };
        TraceLayer {
            shared: Arc::new(Shared {
                recorder,
                hooks: self.hooks,
                rules: Arc::new(Rules {
                    side: self.side,
                    catch_panics: self.catch_panics,
                }),
                options: self.options,
            }),
        }
    }
}
