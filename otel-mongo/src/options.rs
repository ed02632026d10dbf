//! Configuration of an [`OtelCommandHandler`](crate::OtelCommandHandler): the builder and its
//! option types.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::trace::{SpanKind, Tracer, TracerProvider};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::text::{DEFAULT_MAX_QUERY_TEXT_LEN, QueryTextMode};
use otel_rpc::{DbOperation, ErrorTextMode, SpanRecorder, SpanRecorderBuilder};

use crate::event::StartedCommand;
use crate::handler::OtelCommandHandler;
use crate::pool::{DEFAULT_ABANDONED_CHECKOUT_AFTER, PoolEvents};

/// Default for [`OtelCommandHandlerBuilder::max_in_flight`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = 10_000;

/// Default for [`OtelCommandHandlerBuilder::reply_timeout`].
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(300);

/// Commands the driver sends from its own background tasks, with no caller to parent them to.
pub const BACKGROUND_COMMANDS: &[&str] = &["killCursors", "endSessions", "abortTransaction"];

/// What to do with commands the driver runs in background tasks: `killCursors` when a cursor
/// is dropped before its end, `endSessions` when the client shuts down, `abortTransaction`
/// when a session is dropped mid-transaction ([`BACKGROUND_COMMANDS`]).
///
/// They are recognised by name *and* by having no current span: the same commands run inside
/// a traced caller are always recorded as that caller's children.
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

pub(crate) type Filter = Arc<dyn Fn(&StartedCommand) -> bool + Send + Sync>;
pub(crate) type SpanNamer = Arc<dyn Fn(&StartedCommand, &DbOperation<'_>) -> String + Send + Sync>;
pub(crate) type AttributesHook = Arc<dyn Fn(&StartedCommand, &mut Vec<KeyValue>) + Send + Sync>;

/// Resolved options, shared by the handler's clones.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) query_text: QueryTextMode,
    pub(crate) max_query_text_len: usize,
    pub(crate) error_text: ErrorTextMode,
    pub(crate) background: BackgroundCommands,
    pub(crate) filter: Option<Filter>,
    pub(crate) span_name: Option<SpanNamer>,
    pub(crate) attributes: Option<AttributesHook>,
}

/// Builds an [`OtelCommandHandler`]; see [`OtelCommandHandler::builder`].
///
/// ```
/// use std::time::Duration;
/// use otel_mongo::{BackgroundCommands, OtelCommandHandler};
/// use otel_rpc::text::QueryTextMode;
///
/// let handler = OtelCommandHandler::builder()
///     .query_text(QueryTextMode::Sanitized)
///     .max_query_text_len(1024)
///     .filter(|cmd| cmd.command_name != "ping")
///     .background_commands(BackgroundCommands::Root)
///     .max_in_flight(5_000)
///     .reply_timeout(Duration::from_secs(60))
///     .build();
/// # let _ = handler;
/// ```
#[must_use]
pub struct OtelCommandHandlerBuilder {
    recorder: SpanRecorderBuilder,
    options: Options,
    max_in_flight: usize,
    reply_timeout: Duration,
    pool: PoolOptions,
}

/// How the connection pool metrics are built.
struct PoolOptions {
    enabled: bool,
    /// From the injected meter provider (`None`: the global one).
    meter: Option<Meter>,
    abandoned_checkout_after: Duration,
}

/// The instrumentation scope of every span, measurement and pool metric.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
        .build()
}

impl fmt::Debug for OtelCommandHandlerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelCommandHandlerBuilder")
            .field("query_text", &self.options.query_text)
            .field("max_query_text_len", &self.options.max_query_text_len)
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

impl OtelCommandHandlerBuilder {
    /// Defaults: global providers, sanitized query text capped at
    /// [`DEFAULT_MAX_QUERY_TEXT_LEN`], background commands skipped, every other command
    /// recorded, [`DEFAULT_MAX_IN_FLIGHT`] open commands at most, [`DEFAULT_REPLY_TIMEOUT`].
    pub fn new() -> Self {
        OtelCommandHandlerBuilder {
            recorder: SpanRecorder::builder(SpanKind::Client, env!("CARGO_PKG_NAME"))
                .scope_version(env!("CARGO_PKG_VERSION"))
                .status_code_attribute(attribute::DB_RESPONSE_STATUS_CODE),
            options: Options {
                query_text: QueryTextMode::default(),
                max_query_text_len: DEFAULT_MAX_QUERY_TEXT_LEN,
                error_text: ErrorTextMode::default(),
                background: BackgroundCommands::default(),
                filter: None,
                span_name: None,
                attributes: None,
            },
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            pool: PoolOptions {
                enabled: true,
                meter: None,
                abandoned_checkout_after: DEFAULT_ABANDONED_CHECKOUT_AFTER,
            },
        }
    }

    /// Uses `provider` instead of the global tracer provider.
    pub fn tracer_provider<P>(mut self, provider: P) -> Self
    where
        P: TracerProvider + Send + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.recorder = self.recorder.tracer_provider(provider);
        self
    }

    /// Uses `provider` instead of the global meter provider.
    pub fn meter_provider<P>(mut self, provider: P) -> Self
    where
        P: MeterProvider + Send + 'static,
    {
        self.pool.meter = Some(provider.meter_with_scope(scope()));
        self.recorder = self.recorder.meter_provider(provider);
        self
    }

    /// Records spans only: no `db.client.operation.duration` histogram and no connection pool
    /// metrics.
    pub fn disable_metrics(mut self) -> Self {
        self.recorder = self.recorder.disable_metrics();
        self.pool.enabled = false;
        self
    }

    /// Turns the connection pool metrics (`db.client.connection.*`, fed by the pool events
    /// [`install`](OtelCommandHandler::install) subscribes to) off or on (default on).
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

    /// What `db.query.text` holds: [`QueryTextMode::Sanitized`] (default, values replaced by
    /// `?`), [`QueryTextMode::Off`], or [`QueryTextMode::Raw`] (**unsafe**: every value sent,
    /// passwords and personal data included, reaches your tracing backend; authentication
    /// commands stay unrecorded even then).
    pub fn query_text(mut self, mode: QueryTextMode) -> Self {
        self.options.query_text = mode;
        self
    }

    /// Caps `db.query.text` at `max` bytes (cut on a char boundary, with a `…` marker).
    pub fn max_query_text_len(mut self, max: usize) -> Self {
        self.options.max_query_text_len = max;
        self
    }

    /// What a failure records of the server's `errmsg` and of a driver error's text:
    /// [`ErrorTextMode::Off`] (default, nothing: only the code, its name from a static table,
    /// or the driver error kind), or [`ErrorTextMode::Scrubbed`] (**opt-in, unsafe-ish**: the
    /// text as status description and `exception.message`, after
    /// [`scrub`](otel_rpc::untrusted::scrub) replaced quoted runs, numbers and `key=value`
    /// values with `?`, capped at 256 bytes; a value the server prints unquoted can remain).
    pub fn error_text(mut self, mode: ErrorTextMode) -> Self {
        self.options.error_text = mode;
        self
    }

    /// Records only the commands for which `filter` returns `true` (called on every started
    /// command; the others cost nothing more). Authentication commands reach it with an empty
    /// document.
    pub fn filter(
        mut self,
        filter: impl Fn(&StartedCommand) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.options.filter = Some(Arc::new(filter));
        self
    }

    /// Replaces the span name (default: `db.query.summary`, e.g. `find orders`). Keep it low
    /// cardinality: never put values in it.
    pub fn span_name(
        mut self,
        name: impl Fn(&StartedCommand, &DbOperation<'_>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.options.span_name = Some(Arc::new(name));
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

    /// Builds the handler.
    pub fn build(self) -> OtelCommandHandler {
        let pool = self.pool.enabled.then(|| {
            let meter = self
                .pool
                .meter
                .unwrap_or_else(|| opentelemetry::global::meter_with_scope(scope()));
            PoolEvents::new(&meter, self.pool.abandoned_checkout_after)
        });
        OtelCommandHandler::from_parts(
            self.recorder.build(),
            self.options,
            pool,
            self.max_in_flight,
            self.reply_timeout,
        )
    }
}
