//! [`TraceLayer`], the one tower layer behind every protocol, and its [`LayerBuilder`]: the
//! options every tracing layer shares (providers, propagator, span name, request filter, extra
//! attributes), plus the options specific to protocol `P`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use tower_layer::Layer;

use super::protocol::Protocol;
use super::rules::{Rules, Side};
use super::service::TraceService;
use super::shared::{Hooks, Shared};
use crate::metric::DurationMetric;
use crate::options::{CommonOptions, InstrumentationOptions};

/// The tracing layer of protocol `P`; named through its aliases
/// `HttpServerLayer`,
/// `HttpClientLayer`,
/// `GrpcServerLayer` and
/// `GrpcClientLayer`.
pub struct TraceLayer<P: Protocol> {
    pub(crate) shared: Arc<Shared<P::Options>>,
}

impl<P: Protocol> Clone for TraceLayer<P> {
    fn clone(&self) -> Self {
        TraceLayer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P: Protocol> fmt::Debug for TraceLayer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceLayer")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> TraceLayer<P> {
    /// A layer with default options and the global providers.
    pub fn new() -> Self {
        Self::builder().into_layer()
    }

    /// A builder for the layer's options.
    pub fn builder() -> LayerBuilder<P> {
        let kind = match P::SIDE {
            Side::Server => SpanKind::Server,
            Side::Client => SpanKind::Client,
        };
        LayerBuilder::new(P::INSTRUMENTATION, kind, P::duration_metric(), None)
    }
}

impl<P: Protocol> Default for TraceLayer<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, P: Protocol> Layer<S> for TraceLayer<P> {
    type Service = TraceService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService::new(inner, Arc::clone(&self.shared))
    }
}

/// Builds a tracing layer. Obtained from the layer's `builder()`, e.g.
/// `HttpServerLayer::builder`, and named by its protocol (`LayerBuilder<HttpServer>`,
/// `LayerBuilder<GrpcClient>`, ...); the protocol's own options are its inherent methods, the methods here are common to all layers, and the shared options
/// vocabulary of every crate ([`InstrumentationOptions`]: providers, propagator,
/// `disable_metrics`, `recorder`, `error_text`, `classify`, `exception_signal`, `enabled`)
/// applies too.
///
/// By default spans and metrics go to the global providers and the
/// default propagator is used. The environment
/// switch `OTEL_INSTRUMENTATION_HTTP_ENABLED=false` (HTTP layers) /
/// `OTEL_INSTRUMENTATION_GRPC_ENABLED=false` (gRPC layers) makes the layer a pass-through.
///
/// ```
/// # #[cfg(feature = "grpc")] {
/// use std::borrow::Cow;
/// use http::request::Parts;
/// use opentelemetry_sdk::{metrics::SdkMeterProvider, trace::SdkTracerProvider};
/// use otel_rpc::ErrorTextMode;
/// use otel_rpc::{Observed, Verdict};
/// use otel_rpc::GrpcServerLayer;
/// use otel_rpc::InstrumentationOptions;
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
pub struct LayerBuilder<P: Protocol> {
    common: CommonOptions,
    kind: SpanKind,
    status_code_attribute: Option<&'static str>,
    catch_panics: bool,
    pub(crate) metric: DurationMetric,
    pub(crate) hooks: Hooks,
    pub(crate) capture: crate::capture::CaptureConfig,
    pub(crate) options: P::Options,
}

impl<P: Protocol> LayerBuilder<P> {
    /// Builds the layer.
    pub fn build(self) -> TraceLayer<P> {
        self.into_layer()
    }
}

impl<P: Protocol> InstrumentationOptions for LayerBuilder<P> {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
}

impl<P: Protocol> fmt::Debug for LayerBuilder<P>
where
    P::Options: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> LayerBuilder<P> {
    pub(crate) fn new(
        instrumentation: &'static str,
        kind: SpanKind,
        metric: DurationMetric,
        status_code_attribute: Option<&'static str>,
    ) -> Self {
        LayerBuilder {
            common: CommonOptions::new(instrumentation),
            kind,
            status_code_attribute,
            catch_panics: true,
            metric,
            hooks: Hooks::default(),
            capture: Default::default(),
            options: P::Options::default(),
        }
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
    /// let layer = otel_rpc::HttpServerLayer::builder()
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

    pub(crate) fn into_layer(self) -> TraceLayer<P> {
        let recorder = self.common.build_recorder(
            self.kind.clone(),
            crate::conventions::SCOPE,
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
                    series: (cfg!(feature = "bound-instruments")
                        && recorder.inner.metrics
                        && recorder.inner.providers.load().duration_binds)
                        .then(super::series::BoundSeries::default),
                }),
                recorder,
                enabled: self.common.enabled,
                hooks: self.hooks,
                options: self.options,
            }),
        }
    }
}
