//! Configuration of an [`OtelCommandHandler`](crate::OtelCommandHandler): the builder and its
//! option types.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::SpanKind;
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::QueryTextMode;
use otel_rpc::{CommonOptions, DbHooks, DbInstrumentationOptions, InstrumentationOptions};
use otel_rpc::{DurationMetric, ErrorTextMode};

use crate::event::StartedCommand;
use crate::pool::{DEFAULT_ABANDONED_CHECKOUT_AFTER, PoolShared};

/// Default for [`OtelCommandHandlerBuilder::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;

/// Default for [`OtelCommandHandlerBuilder::reply_timeout`].
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(300);

/// Commands the driver sends from its own background tasks, with no caller to parent them to,
/// and that an application does not send itself.
pub const BACKGROUND_COMMANDS: &[&str] = &["killCursors", "endSessions"];

/// What to do with commands the driver runs in background tasks: `killCursors` when a cursor
/// is dropped before its end, `endSessions` when the client shuts down
/// ([`BACKGROUND_COMMANDS`]).
///
/// They are recognised by name *and* by having no current span: the same commands run inside
/// a traced caller are always recorded as that caller's children. `abortTransaction` is not
/// one of them: an application aborts its own transactions (`session.abort_transaction()`),
/// traced or not, and the driver's abort of a session dropped mid-transaction cannot be told
/// from that, so every `abortTransaction` is recorded (the driver's as a root span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BackgroundCommands {
    /// Not recorded (the default): they are driver housekeeping after the caller's operation
    /// finished, with no caller to attribute them to, so each would be a one-span trace of its
    /// own, and the driver ignores their result anyway.
    #[default]
    Skip,
    /// Recorded as root spans (new traces), e.g. to investigate cursor or session leaks.
    Root,
}

pub(crate) type AttributesHook = Arc<dyn Fn(&StartedCommand, &mut Vec<KeyValue>) + Send + Sync>;

/// The short instrumentation name: `OTEL_INSTRUMENTATION_MONGO_ENABLED=false` turns the
/// handler into a pass-through.
pub const INSTRUMENTATION_NAME: &str = "mongo";

/// Resolved options, shared by the handler's clones.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) query_text: QueryTextMode,
    pub(crate) max_query_text_len: usize,
    pub(crate) error_text: ErrorTextMode,
    pub(crate) background: BackgroundCommands,
    pub(crate) hooks: DbHooks,
    pub(crate) attributes: Option<AttributesHook>,
}

/// The resolved builder: everything a handler is made of.
pub(crate) struct Parts {
    pub(crate) enabled: bool,
    pub(crate) recorder: otel_rpc::SpanRecorder,
    /// The command spans of a traced operation: no duration measurement.
    pub(crate) in_operation: otel_rpc::SpanRecorder,
    pub(crate) options: Options,
    pub(crate) pool: Option<PoolShared>,
    pub(crate) max_in_flight: usize,
    pub(crate) reply_timeout: Duration,
}

/// Builds an [`OtelCommandHandler`](crate::OtelCommandHandler); see
/// [`OtelCommandHandler::builder`](crate::OtelCommandHandler::builder).
///
/// The shared options vocabulary of every crate of this workspace comes from
/// [`InstrumentationOptions`] (providers, `disable_metrics`, `recorder`, `query_text`,
/// `max_query_text_len`, `error_text`, `classify`, `exception_signal`, `enabled`) and
/// [`DbInstrumentationOptions`] (`filter`, `span_name`, typed on [`DbOperation`](otel_rpc::DbOperation)); bring them
/// into scope (both are re-exported by this crate).
///
/// ```
/// use std::borrow::Cow;
/// use std::time::Duration;
/// use opentelemetry_sdk::{metrics::SdkMeterProvider, trace::SdkTracerProvider};
/// use otel_mongo::{
///     BackgroundCommands, DbInstrumentationOptions, ErrorTextMode, InstrumentationOptions,
///     OtelCommandHandler, QueryTextMode,
/// };
/// use otel_rpc::DbOperation;
/// use otel_rpc::{Observed, Verdict};
///
/// let (tracer_provider, meter_provider) = (SdkTracerProvider::default(), SdkMeterProvider::default());
/// // The same words as every crate's builder (otel-sqlx, otel-redis, the otel-rpc layers):
/// let handler = OtelCommandHandler::builder()
///     .tracer_provider(tracer_provider)
///     .meter_provider(meter_provider)
///     .query_text(QueryTextMode::Sanitized)
///     .max_query_text_len(1024)
///     .error_text(ErrorTextMode::Off)
///     // A duplicate key is expected here: not an error.
///     .classify(|o| match o {
///         Observed::Db { status_code: Some("11000"), .. } => Some(Verdict::NotError),
///         _ => None,
///     })
///     .filter(|op: &DbOperation| op.operation.as_ref().is_none_or(|o| o.as_str() != "ping"))
///     .span_name(|op: &DbOperation| Cow::Owned(format!("mongo {}", op.span_name())))
///     .enabled(true)
///     // Mongo's own options.
///     .background_commands(BackgroundCommands::Root)
///     .max_in_flight(5_000)
///     .reply_timeout(Duration::from_secs(60))
///     .build();
/// # let _ = handler;
/// ```
#[must_use]
pub struct OtelCommandHandlerBuilder {
    common: CommonOptions,
    options: Options,
    max_in_flight: usize,
    reply_timeout: Duration,
    pool: PoolOptions,
}

/// How the connection pool metrics are built.
struct PoolOptions {
    enabled: bool,
    abandoned_checkout_after: Duration,
}

/// The instrumentation scope of the pool metrics (the recorder builds the same one).
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(otel_rpc::Domain::Db.schema_url())
        .build()
}

impl fmt::Debug for OtelCommandHandlerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelCommandHandlerBuilder")
            .field("common", &self.common)
            .field("hooks", &self.options.hooks)
            .field("background", &self.options.background)
            .field("max_in_flight", &self.max_in_flight)
            .field("reply_timeout", &self.reply_timeout)
            .field("pool_metrics", &self.pool.enabled)
            .finish_non_exhaustive()
    }
}

impl Default for OtelCommandHandlerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl InstrumentationOptions for OtelCommandHandlerBuilder {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
}

impl DbInstrumentationOptions for OtelCommandHandlerBuilder {
    fn db_hooks(&mut self) -> &mut DbHooks {
        &mut self.options.hooks
    }
}

impl OtelCommandHandlerBuilder {
    /// Defaults: global providers, sanitized query text capped at
    /// [`DEFAULT_MAX_QUERY_TEXT_LEN`](otel_rpc::text::DEFAULT_MAX_QUERY_TEXT_LEN), no error
    /// text, background commands skipped, every other command recorded, pool metrics on,
    /// [`DEFAULT_MAX_IN_FLIGHT`] open commands at most, [`DEFAULT_REPLY_TIMEOUT`]; enabled
    /// unless `OTEL_INSTRUMENTATION_MONGO_ENABLED=false`.
    pub fn new() -> Self {
        OtelCommandHandlerBuilder {
            common: CommonOptions::new(INSTRUMENTATION_NAME),
            options: Options {
                query_text: QueryTextMode::default(),
                max_query_text_len: otel_rpc::text::DEFAULT_MAX_QUERY_TEXT_LEN,
                error_text: ErrorTextMode::default(),
                background: BackgroundCommands::default(),
                hooks: DbHooks::default(),
                attributes: None,
            },
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            pool: PoolOptions {
                enabled: true,
                abandoned_checkout_after: DEFAULT_ABANDONED_CHECKOUT_AFTER,
            },
        }
    }

    /// Uses `provider` instead of the global tracer provider (the same as
    /// [`InstrumentationOptions::tracer_provider`], callable without importing the trait).
    pub fn tracer_provider<P>(self, provider: P) -> Self
    where
        P: opentelemetry::trace::TracerProvider + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
    {
        InstrumentationOptions::tracer_provider(self, provider)
    }

    /// Uses `provider` instead of the global meter provider, for the duration histogram and
    /// the connection pool metrics ([`InstrumentationOptions::meter_provider`] plus the pool's
    /// meter).
    /// (The same as [`InstrumentationOptions::meter_provider`], callable without importing
    /// the trait.)
    pub fn meter_provider<P>(self, provider: P) -> Self
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        InstrumentationOptions::meter_provider(self, provider)
    }

    /// Turns the connection pool metrics (`db.client.connection.*`, fed by the pool events
    /// [`install`](crate::OtelCommandHandler::install) subscribes to) off or on (default on;
    /// [`disable_metrics`](InstrumentationOptions::disable_metrics) turns them off too). They
    /// use the provider given to [`meter_provider`](Self::meter_provider), else the global
    /// one (also with a prebuilt [`recorder`](InstrumentationOptions::recorder)).
    pub fn pool_metrics(mut self, enabled: bool) -> Self {
        self.pool.enabled = enabled;
        self
    }

    /// A connection check-out still pending when one that started `grace` later already got
    /// its connection was abandoned by its caller (the driver emits no event when a waiting
    /// operation is dropped): it leaves `db.client.connection.pending_requests` and counts as
    /// one `db.client.connection.timeouts` (default [`DEFAULT_ABANDONED_CHECKOUT_AFTER`], the
    /// driver's default connect timeout, since a check-out that opens a connection can wait
    /// that long legitimately).
    pub fn abandoned_checkout_after(mut self, grace: Duration) -> Self {
        self.pool.abandoned_checkout_after = grace;
        self
    }

    /// Adds span attributes per command; called only for recorded (sampled) spans.
    /// Authentication commands reach it with an empty document.
    pub fn attributes(
        mut self,
        hook: impl Fn(&StartedCommand, &mut Vec<KeyValue>) + Send + Sync + 'static,
    ) -> Self {
        self.options.attributes = Some(Arc::new(hook));
        self
    }

    /// What to do with commands the driver runs in background tasks (default
    /// [`BackgroundCommands::Skip`]).
    pub fn background_commands(mut self, mode: BackgroundCommands) -> Self {
        self.options.background = mode;
        self
    }

    /// At most `max` commands awaiting their reply are held (default
    /// [`DEFAULT_MAX_IN_FLIGHT`]); beyond that the oldest is ended as lost.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// A command with no reply after `timeout` (its future was dropped, its connection lost
    /// without an event) is ended as lost (default [`DEFAULT_REPLY_TIMEOUT`]). Set it above
    /// your longest legitimate command.
    pub fn reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// What [`build`](Self::build) makes the handler from.
    pub(crate) fn into_parts(self) -> Parts {
        let common = self.common;
        let recorder = common.build_recorder(
            SpanKind::Client,
            env!("CARGO_PKG_NAME"),
            Some(env!("CARGO_PKG_VERSION")),
            DurationMetric::db_client(),
            Some(attribute::DB_RESPONSE_STATUS_CODE),
        );
        // The command spans of a traced operation: the same spans, no duration measurement
        // (the operation records the one measurement). A prebuilt recorder is used as given
        // (its commands then also record theirs).
        let in_operation = match common.prebuilt_recorder() {
            Some(prebuilt) => prebuilt.clone(),
            None => common
                .recorder_builder(
                    SpanKind::Client,
                    env!("CARGO_PKG_NAME"),
                    Some(env!("CARGO_PKG_VERSION")),
                    DurationMetric::db_client(),
                    Some(attribute::DB_RESPONSE_STATUS_CODE),
                )
                .disable_metrics()
                .build(),
        };
        let pool = (common.enabled && common.metrics && self.pool.enabled).then(|| {
            // The one meter source: the provider given through the trait (or the inherent
            // word), else the global one (followed if it is replaced later).
            PoolShared::new(
                common.pool_metrics(scope()),
                self.pool.abandoned_checkout_after,
            )
        });
        let options = Options {
            query_text: common.query_text,
            max_query_text_len: common.max_query_text_len,
            error_text: common.error_text,
            ..self.options
        };
        Parts {
            enabled: common.enabled,
            recorder,
            in_operation,
            options,
            pool,
            max_in_flight: self.max_in_flight,
            reply_timeout: self.reply_timeout,
        }
    }
}
