//! One options vocabulary for every adapter and layer: [`CommonOptions`] holds what all of them
//! take, [`InstrumentationOptions`] gives every builder the same methods with the same words,
//! and [`DbInstrumentationOptions`] adds the database hooks (`filter`, `span_name`) that take a
//! typed [`DbOperation`].
//!
//! An adapter's builder holds a `CommonOptions`, implements the trait's one required method,
//! and builds its recorder with [`CommonOptions::build_recorder`]:
//!
//! ```
//! use std::borrow::Cow;
//! use opentelemetry::trace::SpanKind;
//! use otel_rpc::{Observed, Verdict};
//! use otel_rpc::{CommonOptions, DbHooks, DbInstrumentationOptions, InstrumentationOptions};
//! use otel_rpc::QueryTextMode;
//! use otel_rpc::{DbOperation, DurationMetric, ErrorTextMode, SpanRecorder};
//!
//! /// A toy adapter's builder: this is all an adapter writes to get the shared vocabulary.
//! struct MyDriverBuilder { common: CommonOptions, db: DbHooks }
//! impl InstrumentationOptions for MyDriverBuilder {
//!     fn common_options(&mut self) -> &mut CommonOptions { &mut self.common }
//! }
//! impl DbInstrumentationOptions for MyDriverBuilder {
//!     fn db_hooks(&mut self) -> &mut DbHooks { &mut self.db }
//! }
//! impl MyDriverBuilder {
//!     fn new() -> Self { MyDriverBuilder { common: CommonOptions::new("mydriver"), db: DbHooks::default() } }
//!     fn build(self) -> (Option<SpanRecorder>, DbHooks) {
//!         let recorder = self.common.enabled.then(|| {
//!             self.common.build_recorder(SpanKind::Client, "my-driver", Some("0.1.0"),
//!                 DurationMetric::db_client(),
//!                 Some(opentelemetry_semantic_conventions::attribute::DB_RESPONSE_STATUS_CODE))
//!         });
//!         (recorder, self.db)
//!     }
//! }
//!
//! let telemetry = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
//! // The same words on every crate's builder:
//! let (recorder, hooks) = MyDriverBuilder::new()
//!     .tracer_provider(telemetry.clone())
//!     .disable_metrics()
//!     .query_text(QueryTextMode::Sanitized)
//!     .max_query_text_len(1024)
//!     .error_text(ErrorTextMode::Off)
//!     .classify(|o| match o {
//!         Observed::Db { status_code: Some("23505"), .. } => Some(Verdict::NotError),
//!         _ => None,
//!     })
//!     .filter(|op: &DbOperation<'_>| op.operation.as_ref().is_none_or(|o| o.as_str() != "PING"))
//!     .span_name(|op: &DbOperation<'_>| Cow::Owned(format!("db {}", op.span_name())))
//!     .build();
//! assert!(recorder.is_some());
//! assert!(!hooks.allows(&DbOperation::new("redis").operation("PING")));
//! assert_eq!(hooks.name(&DbOperation::new("redis").operation("GET")), "db GET");
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{SpanKind, Tracer, TracerProvider};

use crate::classify::{Classifier, Observed, Verdict};
use crate::db::DbOperation;
use crate::db::QueryTextMode;
use crate::metric::DurationMetric;
use crate::propagation::SharedPropagator;
use crate::providers::Providers;
use crate::recorder::{SpanRecorder, SpanRecorderBuilder};
use crate::text::DEFAULT_MAX_QUERY_TEXT_LEN;
use crate::untrusted::ErrorTextMode;

/// The name of the environment switch of `instrumentation`:
/// `OTEL_INSTRUMENTATION_<NAME>_ENABLED`, NAME upper-cased with `-` and `.` as `_`.
///
/// ```
/// assert_eq!(otel_rpc::testing::enabled_env_var("sqlx"), "OTEL_INSTRUMENTATION_SQLX_ENABLED");
/// assert_eq!(otel_rpc::testing::enabled_env_var("http-server"), "OTEL_INSTRUMENTATION_HTTP_SERVER_ENABLED");
/// ```
pub fn enabled_env_var(instrumentation: &str) -> String {
    let name: String = instrumentation
        .chars()
        .map(|c| match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("OTEL_INSTRUMENTATION_{name}_ENABLED")
}

/// Reads the switch of [`enabled_env_var`]: `false` (any case, surrounding blanks ignored)
/// turns the instrumentation off; anything else, or no variable, leaves it on.
pub fn enabled_from_env(instrumentation: &str) -> bool {
    std::env::var(enabled_env_var(instrumentation))
        .map(|v| !v.trim().eq_ignore_ascii_case("false"))
        .unwrap_or(true)
}

/// The options every adapter and layer takes, set through [`InstrumentationOptions`].
///
/// Fields not listed as public are set through the trait's methods (providers, propagator,
/// prebuilt recorder).
#[non_exhaustive]
pub struct CommonOptions {
    /// The short instrumentation name (`sqlx`, `mongo`, `redis`, `http`, `grpc`), used for the
    /// environment switch.
    pub instrumentation: &'static str,
    providers: Providers,
    /// Whether the duration histogram is recorded (default `true`).
    pub metrics: bool,
    /// What is recorded as `db.query.text` (default [`QueryTextMode::Sanitized`]).
    pub query_text: QueryTextMode,
    /// Cap on recorded query text, in bytes (default [`DEFAULT_MAX_QUERY_TEXT_LEN`]).
    pub max_query_text_len: usize,
    /// How much untrusted error text is recorded (default [`ErrorTextMode::Off`]).
    pub error_text: ErrorTextMode,
    /// The user's classification rule, if any.
    pub classifier: Option<Classifier>,
    /// The exception signal; `None` = `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`, read when the
    /// recorder is built.
    pub exception_signal: Option<crate::exception::ExceptionSignal>,
    /// `false` turns the adapter into a pass-through. Default: the environment switch
    /// `OTEL_INSTRUMENTATION_<NAME>_ENABLED` (unset, or any value but `false`, means on); a call to
    /// [`InstrumentationOptions::enabled`] overrides it.
    pub enabled: bool,
    /// No span without a parent span (database adapters; set with
    /// [`DbInstrumentationOptions::require_parent`]). Default `false`.
    pub require_parent: bool,
    /// The migration modes (previous attribute names on spans); `None` =
    /// `OTEL_SEMCONV_STABILITY_OPT_IN`, read when the recorder is built.
    pub semconv_stability: Option<crate::semconv_mode::SemconvStability>,
    recorder: Option<SpanRecorder>,
}

impl fmt::Debug for CommonOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommonOptions")
            .field("instrumentation", &self.instrumentation)
            .field("metrics", &self.metrics)
            .field("query_text", &self.query_text)
            .field("max_query_text_len", &self.max_query_text_len)
            .field("error_text", &self.error_text)
            .field("classifier", &self.classifier.is_some())
            .field("exception_signal", &self.exception_signal)
            .field("enabled", &self.enabled)
            .field("require_parent", &self.require_parent)
            .field("recorder", &self.recorder.is_some())
            .finish_non_exhaustive()
    }
}

impl Clone for CommonOptions {
    fn clone(&self) -> Self {
        CommonOptions {
            instrumentation: self.instrumentation,
            providers: self.providers.clone(),
            metrics: self.metrics,
            query_text: self.query_text,
            max_query_text_len: self.max_query_text_len,
            error_text: self.error_text,
            classifier: self.classifier.clone(),
            exception_signal: self.exception_signal,
            enabled: self.enabled,
            require_parent: self.require_parent,
            semconv_stability: self.semconv_stability,
            recorder: self.recorder.clone(),
        }
    }
}

impl CommonOptions {
    /// Defaults for `instrumentation` (its short name, e.g. `sqlx`), reading its environment
    /// switch (unset, or any value but `false`, means on).
    pub fn new(instrumentation: &'static str) -> Self {
        CommonOptions {
            instrumentation,
            providers: Providers::default(),
            metrics: true,
            query_text: QueryTextMode::default(),
            max_query_text_len: DEFAULT_MAX_QUERY_TEXT_LEN,
            error_text: ErrorTextMode::default(),
            classifier: None,
            exception_signal: None,
            enabled: enabled_from_env(instrumentation),
            require_parent: false,
            semconv_stability: None,
            recorder: None,
        }
    }

    /// The prebuilt recorder given with [`InstrumentationOptions::recorder`], if any.
    pub fn prebuilt_recorder(&self) -> Option<&SpanRecorder> {
        self.recorder.as_ref()
    }

    /// An adapter's pool metrics for `scope`, on the provider given with
    /// [`InstrumentationOptions::meter_provider`], else on the global meter provider,
    /// following a global meter provider installed later ([`PoolMetrics::global`]): the same
    /// provider the duration histogram uses, so no builder keeps its own.
    ///
    /// [`PoolMetrics::global`]: crate::pool::PoolMetrics::global
    pub fn pool_metrics(&self, scope: InstrumentationScope) -> crate::pool::PoolMetrics {
        self.providers.pool_metrics(scope)
    }

    /// The propagator given with [`InstrumentationOptions::propagator`], if any.
    pub fn custom_propagator(&self) -> Option<&SharedPropagator> {
        self.providers.propagator.as_ref()
    }

    /// The recorder for these options: the prebuilt one when given, else one built with the
    /// configured providers, propagator, metrics switch, classifier, error-text mode and
    /// exception signal. `status_code_key` is the attribute carrying
    /// [`Failure::status_code`](crate::Failure::status_code).
    pub fn build_recorder(
        &self,
        kind: SpanKind,
        scope: &'static str,
        version: Option<&'static str>,
        metric: DurationMetric,
        status_code_key: Option<&'static str>,
    ) -> SpanRecorder {
        if let Some(recorder) = &self.recorder {
            return recorder.clone();
        }
        self.recorder_builder(kind, scope, version, metric, status_code_key)
            .build()
    }

    /// The builder [`build_recorder`](Self::build_recorder) uses, for adapters that set more.
    pub fn recorder_builder(
        &self,
        kind: SpanKind,
        scope: &'static str,
        version: Option<&'static str>,
        metric: DurationMetric,
        status_code_key: Option<&'static str>,
    ) -> SpanRecorderBuilder {
        let mut b = SpanRecorder::builder(kind, scope)
            .duration_metric(metric)
            .error_text(self.error_text)
            .require_parent(self.require_parent);
        if let Some(v) = version {
            b = b.scope_version(v);
        }
        if let Some(key) = status_code_key {
            b = b.status_code_attribute(key);
        }
        b = b.providers(self.providers.clone());
        if !self.metrics {
            b = b.disable_metrics();
        }
        if let Some(c) = &self.classifier {
            b = b.classifier(Arc::clone(c));
        }
        if let Some(s) = self.exception_signal {
            b = b.exception_signal(s);
        }
        if let Some(mode) = self.semconv_stability {
            b = b.semconv_stability(mode);
        }
        b
    }
}

/// The shared builder vocabulary: implement [`common_options`](Self::common_options) and every
/// builder gets the same methods, meaning the same thing in every crate.
pub trait InstrumentationOptions: Sized {
    /// The options these methods set.
    fn common_options(&mut self) -> &mut CommonOptions;

    /// Uses `provider` instead of the global tracer provider.
    #[must_use]
    fn tracer_provider<P>(mut self, provider: P) -> Self
    where
        P: TracerProvider + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.common_options()
            .providers
            .set_tracer_provider(provider);
        self
    }

    /// Uses `provider` instead of the global meter provider.
    #[must_use]
    fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        self.common_options().providers.set_meter_provider(provider);
        self
    }

    /// Uses `provider` for exception log records (exception signal `logs` / `logs/dup`)
    /// instead of the global logger provider.
    #[must_use]
    fn logger_provider<P>(mut self, provider: P) -> Self
    where
        P: opentelemetry::logs::LoggerProvider + Send + Sync + 'static,
        P::Logger: Send + Sync + 'static,
    {
        self.common_options()
            .providers
            .set_logger_provider(provider);
        self
    }

    /// Replaces the default propagator (the default propagator (the global one, else W3C TraceContext + Baggage)).
    #[must_use]
    fn propagator(mut self, propagator: SharedPropagator) -> Self {
        self.common_options().providers.propagator = Some(propagator);
        self
    }

    /// Turns the duration histogram off (spans only).
    #[must_use]
    fn disable_metrics(mut self) -> Self {
        self.common_options().metrics = false;
        self
    }

    /// Uses a prebuilt recorder (providers, propagator, metrics, classification and exception
    /// signal then come from it).
    #[must_use]
    fn recorder(mut self, recorder: SpanRecorder) -> Self {
        self.common_options().recorder = Some(recorder);
        self
    }

    /// What is recorded as `db.query.text`.
    #[must_use]
    fn query_text(mut self, mode: QueryTextMode) -> Self {
        self.common_options().query_text = mode;
        self
    }

    /// Cap on recorded query text, in bytes.
    #[must_use]
    fn max_query_text_len(mut self, max: usize) -> Self {
        self.common_options().max_query_text_len = max;
        self
    }

    /// How much untrusted error text (server, peer, application) is recorded: see
    /// [`ErrorTextMode`]. Default off.
    #[must_use]
    fn error_text(mut self, mode: ErrorTextMode) -> Self {
        self.common_options().error_text = mode;
        self
    }

    /// A classification rule: `Some(verdict)` decides whether an outcome is an error, `None`
    /// keeps the default (see `classify`).
    #[must_use]
    fn classify(
        mut self,
        rule: impl Fn(&Observed<'_>) -> Option<Verdict> + Send + Sync + 'static,
    ) -> Self {
        self.common_options().classifier = Some(Arc::new(rule));
        self
    }

    /// Where exceptions go (span events, logs, both); default from
    /// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`.
    #[must_use]
    fn exception_signal(mut self, signal: crate::exception::ExceptionSignal) -> Self {
        self.common_options().exception_signal = Some(signal);
        self
    }

    /// Which domains also write the previous attribute names on spans (`database/dup`,
    /// `http/dup`, `rpc/dup`; see [`SemconvStability`](crate::SemconvStability)), instead of
    /// `OTEL_SEMCONV_STABILITY_OPT_IN`.
    #[must_use]
    fn semconv_stability(mut self, mode: crate::semconv_mode::SemconvStability) -> Self {
        self.common_options().semconv_stability = Some(mode);
        self
    }

    /// Turns the instrumentation on or off (off: a pass-through), overriding the environment
    /// switch `OTEL_INSTRUMENTATION_<NAME>_ENABLED`.
    #[must_use]
    fn enabled(mut self, enabled: bool) -> Self {
        self.common_options().enabled = enabled;
        self
    }
}

/// `filter` hook of database adapters: `false` skips telemetry for the operation.
pub type DbFilter = Arc<dyn Fn(&DbOperation<'_>) -> bool + Send + Sync>;
/// `span_name` hook of database adapters.
pub type DbSpanName = Arc<dyn Fn(&DbOperation<'_>) -> Cow<'static, str> + Send + Sync>;

/// The database hooks, set through [`DbInstrumentationOptions`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct DbHooks {
    /// The `filter` hook.
    pub filter: Option<DbFilter>,
    /// The `span_name` hook.
    pub span_name: Option<DbSpanName>,
}

impl fmt::Debug for DbHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbHooks")
            .field("filter", &self.filter.is_some())
            .field("span_name", &self.span_name.is_some())
            .finish()
    }
}

impl DbHooks {
    /// `true` when no hook is set: every operation is recorded under the adapter's own name,
    /// so an adapter may start it from a cached [`PreparedOperation`](crate::PreparedOperation).
    pub fn is_empty(&self) -> bool {
        self.filter.is_none() && self.span_name.is_none()
    }

    /// `true` when the operation is recorded (no filter, or the filter says so).
    pub fn allows(&self, op: &DbOperation<'_>) -> bool {
        self.filter.as_ref().is_none_or(|f| f(op))
    }

    /// The span name: the hook's, else [`DbOperation::span_name`].
    pub fn name(&self, op: &DbOperation<'_>) -> Cow<'static, str> {
        match &self.span_name {
            Some(f) => f(op),
            None => op.span_name(),
        }
    }
}

/// The database hooks of the shared vocabulary, typed on [`DbOperation`].
pub trait DbInstrumentationOptions: InstrumentationOptions {
    /// The hooks these methods set.
    fn db_hooks(&mut self) -> &mut DbHooks;

    /// Records only operations for which `filter` returns `true`.
    #[must_use]
    fn filter(mut self, filter: impl Fn(&DbOperation<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.db_hooks().filter = Some(Arc::new(filter));
        self
    }

    /// With `true`, an operation that runs with no current span (a background job's query, a
    /// cache refresh) records its `db.client.operation.duration` point but no span, instead of
    /// starting a new root trace for each operation. Default `false`.
    #[must_use]
    fn require_parent(mut self, on: bool) -> Self {
        self.common_options().require_parent = on;
        self
    }

    /// Names spans with `name` instead of the conventions' rule.
    #[must_use]
    fn span_name(
        mut self,
        name: impl Fn(&DbOperation<'_>) -> Cow<'static, str> + Send + Sync + 'static,
    ) -> Self {
        self.db_hooks().span_name = Some(Arc::new(name));
        self
    }
}
