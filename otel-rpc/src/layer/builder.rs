//! [`LayerBuilder`]: the options every tracing layer shares (providers, propagator, span name,
//! request filter, extra attributes), plus the layer-specific options `O`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;

use super::protocol::{LayerOptions, Protocol};
use super::rules::Rules;
use super::service::TraceLayer;
use crate::options::{CommonOptions, InstrumentationOptions};
use crate::propagation::SharedPropagator;
use crate::{DurationMetric, SpanRecorder};

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
/// specific to that layer, the methods here are common to all layers, and the shared options
/// vocabulary of every crate ([`InstrumentationOptions`]: providers, propagator,
/// `disable_metrics`, `recorder`, `error_text`, `classify`, `exception_signal`, `enabled`)
/// applies too.
///
/// By default spans and metrics go to the global providers and the
/// [default propagator](crate::propagation::default_propagator) is used. The environment
/// switch `OTEL_INSTRUMENTATION_HTTP_ENABLED=false` (HTTP layers) /
/// `OTEL_INSTRUMENTATION_GRPC_ENABLED=false` (gRPC layers) makes the layer a pass-through.
///
/// ```
/// # #[cfg(feature = "grpc")] {
/// use std::borrow::Cow;
/// use http::request::Parts;
/// use opentelemetry_sdk::{metrics::SdkMeterProvider, trace::SdkTracerProvider};
/// use otel_rpc::ErrorTextMode;
/// use otel_rpc::classify::{Observed, Verdict};
/// use otel_rpc::grpc::GrpcServerLayer;
/// use otel_rpc::options::InstrumentationOptions;
///
/// let (tracer_provider, meter_provider) = (SdkTracerProvider::default(), SdkMeterProvider::default());
/// // The same words as every crate's builder (otel-sqlx, otel-mongo, otel-redis); the hooks
/// // see the request parts where the database adapters see a `DbOperation`.
/// let layer = GrpcServerLayer::builder()
///     .tracer_provider(tracer_provider)
///     .meter_provider(meter_provider)
///     .error_text(ErrorTextMode::Off)
///     // NOT_FOUND is an expected answer of this service, not an error.
///     .classify(|o| matches!(o, Observed::Grpc { code: 5 }).then_some(Verdict::NotError))
///     .filter(|req: &Parts| !req.uri.path().starts_with("/grpc.health."))
///     // Low-cardinality names only: never the raw path of an unknown method.
///     .span_name(|req: &Parts| {
///         Cow::Borrowed(if req.uri.path().starts_with("/shop.Cart/") { "cart" } else { "rpc" })
///     })
///     .enabled(true)
///     .catch_panics(true)
///     .build();
/// # let _ = layer; }
/// ```
#[must_use]
pub struct LayerBuilder<O> {
    common: CommonOptions,
    kind: SpanKind,
    status_code_attribute: Option<&'static str>,
    catch_panics: bool,
    pub(crate) metric: DurationMetric,
    pub(crate) hooks: Hooks,
    pub(crate) capture: crate::capture::CaptureConfig,
    pub(crate) options: O,
}

impl<O: LayerOptions> LayerBuilder<O> {
    /// Builds the layer.
    pub fn build(self) -> TraceLayer<O::Protocol> {
        self.into_layer()
    }
}

impl<O> InstrumentationOptions for LayerBuilder<O> {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
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
    /// `false`: a pass-through (no span, no metric, no propagation).
    pub(crate) enabled: bool,
    pub(crate) hooks: Hooks,
    pub(crate) rules: Arc<Rules>,
    pub(crate) options: O,
}

impl<O> LayerBuilder<O> {
    pub(crate) fn new(
        instrumentation: &'static str,
        kind: SpanKind,
        metric: DurationMetric,
        status_code_attribute: Option<&'static str>,
        options: O,
    ) -> Self {
        LayerBuilder {
            common: CommonOptions::new(instrumentation),
            kind,
            status_code_attribute,
            catch_panics: true,
            metric,
            hooks: Hooks::default(),
            capture: Default::default(),
            options,
        }
    }

    crate::forward_instrumentation_options!(tracer_provider, meter_provider, disable_metrics);

    /// [`InstrumentationOptions::propagator`], callable without importing the trait.
    pub fn propagator(self, propagator: SharedPropagator) -> Self {
        InstrumentationOptions::propagator(self, propagator)
    }

    /// [`InstrumentationOptions::recorder`], callable without importing the trait. Its span
    /// kind should match the layer's.
    pub fn recorder(self, recorder: SpanRecorder) -> Self {
        InstrumentationOptions::recorder(self, recorder)
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
        let recorder = self.common.build_recorder(
            self.kind.clone(),
            SCOPE,
            Some(env!("CARGO_PKG_VERSION")),
            self.metric,
            self.status_code_attribute,
        );
        TraceLayer {
            shared: Arc::new(Shared {
                rules: Arc::new(Rules {
                    recorder: recorder.clone(),
                    catch_panics: self.catch_panics,
                    error_text: self.common.error_text,
                    capture: self.capture.resolve(P::INSTRUMENTATION, P::SIDE),
                }),
                recorder,
                enabled: self.common.enabled,
                hooks: self.hooks,
                options: self.options,
            }),
        }
    }
}
