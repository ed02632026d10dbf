//! [`TracedConnectionBuilder`]: options of a [`TracedConnection`] and the configuration its
//! clones share.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry::StringValue;
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{SpanKind, Tracer, TracerProvider};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::text::{DEFAULT_MAX_QUERY_TEXT_LEN, QueryTextMode};
use otel_rpc::{ErrorTextMode, SpanRecorder, SpanRecorderBuilder};
use redis::ConnectionAddr;

use crate::TracedConnection;
use crate::description::OperationDescription;
use crate::sanitize::TextOptions;

/// Instrumentation scope name of the spans and metrics this crate records.
pub const SCOPE_NAME: &str = "otel-redis";

type Filter = Arc<dyn Fn(&str) -> bool + Send + Sync>;
type SpanNamer = Arc<dyn Fn(&OperationDescription<'_>) -> Cow<'static, str> + Send + Sync>;

/// Configuration shared by a [`TracedConnection`] and its clones.
pub(crate) struct Shared {
    pub(crate) recorder: SpanRecorder,
    pub(crate) server_address: Option<StringValue>,
    pub(crate) server_port: Option<u16>,
    pub(crate) db: i64,
    pub(crate) namespace: StringValue,
    pub(crate) text: TextOptions,
    pub(crate) error_text: ErrorTextMode,
    pub(crate) filter: Option<Filter>,
    pub(crate) span_name: Option<SpanNamer>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnectionConfig")
            .field(
                "server_address",
                &self.server_address.as_ref().map(StringValue::as_str),
            )
            .field("server_port", &self.server_port)
            .field("db", &self.db)
            .field("query_text_mode", &self.text.mode)
            .field("max_query_text_len", &self.text.max_len)
            .field("error_text", &self.error_text)
            .field("filter", &self.filter.is_some())
            .field("span_name", &self.span_name.is_some())
            .finish()
    }
}

impl Shared {
    /// `db.namespace` for `db` (the connection's current database).
    pub(crate) fn namespace(&self, db: i64) -> StringValue {
        if db == self.db {
            self.namespace.clone()
        } else {
            db_namespace(db)
        }
    }

    /// Whether an operation named `operation` is traced.
    pub(crate) fn traces(&self, operation: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| f(operation))
    }
}

/// Builds a [`TracedConnection`]; see [`TracedConnection::builder`].
///
/// ```
/// use otel_rpc::text::QueryTextMode;
///
/// let client = redis::Client::open("redis://127.0.0.1:6379/2").unwrap();
/// let builder = otel_redis::TracedConnection::builder(&client)
///     .query_text_mode(QueryTextMode::Sanitized)
///     .max_query_text_len(512)
///     .filter(|operation| operation != "PING")
///     .span_name(|op| format!("redis {}", op.operation).into());
/// # let _ = builder;
/// ```
#[must_use]
pub struct TracedConnectionBuilder {
    recorder: Option<SpanRecorderBuilder>,
    prebuilt: Option<SpanRecorder>,
    server_address: Option<StringValue>,
    server_port: Option<u16>,
    db: i64,
    text: TextOptions,
    error_text: ErrorTextMode,
    filter: Option<Filter>,
    span_name: Option<SpanNamer>,
}

impl fmt::Debug for TracedConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnectionBuilder")
            .field(
                "server_address",
                &self.server_address.as_ref().map(StringValue::as_str),
            )
            .field("server_port", &self.server_port)
            .field("db", &self.db)
            .field("query_text_mode", &self.text.mode)
            .finish_non_exhaustive()
    }
}

impl TracedConnectionBuilder {
    pub(crate) fn new(client: &redis::Client) -> Self {
        let info = client.get_connection_info();
        let (server_address, server_port) = server_of(info.addr());
        TracedConnectionBuilder {
            recorder: Some(
                SpanRecorder::builder(SpanKind::Client, SCOPE_NAME)
                    .scope_version(env!("CARGO_PKG_VERSION"))
                    .status_code_attribute(attribute::DB_RESPONSE_STATUS_CODE),
            ),
            prebuilt: None,
            server_address,
            server_port,
            db: info.redis_settings().db(),
            text: TextOptions {
                mode: QueryTextMode::Sanitized,
                max_len: DEFAULT_MAX_QUERY_TEXT_LEN,
            },
            error_text: ErrorTextMode::Off,
            filter: None,
            span_name: None,
        }
    }

    fn map_recorder(mut self, f: impl FnOnce(SpanRecorderBuilder) -> SpanRecorderBuilder) -> Self {
        self.recorder = self.recorder.take().map(f);
        self
    }

    /// Uses `provider` instead of the global tracer provider.
    pub fn tracer_provider<P>(self, provider: P) -> Self
    where
        P: TracerProvider + Send + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        self.map_recorder(|b| b.tracer_provider(provider))
    }

    /// Uses `provider` instead of the global meter provider for
    /// `db.client.operation.duration`.
    pub fn meter_provider<P>(self, provider: P) -> Self
    where
        P: MeterProvider + Send + 'static,
    {
        self.map_recorder(|b| b.meter_provider(provider))
    }

    /// Records spans only, no `db.client.operation.duration` histogram.
    pub fn disable_metrics(self) -> Self {
        self.map_recorder(SpanRecorderBuilder::disable_metrics)
    }

    /// Uses a recorder built elsewhere (its providers, propagator and metric) instead of the
    /// one this builder would make. It should have kind `Client` and
    /// `db.response.status_code` as its status code attribute.
    pub fn span_recorder(mut self, recorder: SpanRecorder) -> Self {
        self.prebuilt = Some(recorder);
        self
    }

    /// What `db.query.text` holds: [`QueryTextMode::Sanitized`] (the default: command names
    /// and keys, every value `?`), [`QueryTextMode::Off`], or [`QueryTextMode::Raw`]
    /// (**unsafe**: values reach your tracing backend; authentication commands are still
    /// reduced to their names).
    pub fn query_text_mode(mut self, mode: QueryTextMode) -> Self {
        self.text.mode = mode;
        self
    }

    /// Caps `db.query.text`, in bytes (default
    /// [`DEFAULT_MAX_QUERY_TEXT_LEN`](otel_rpc::text::DEFAULT_MAX_QUERY_TEXT_LEN), 2 KiB).
    pub fn max_query_text_len(mut self, max: usize) -> Self {
        self.text.max_len = max;
        self
    }

    /// Whether the text of error replies is recorded: [`ErrorTextMode::Off`] (the default:
    /// `error.type` / `db.response.status_code` hold the error prefix when Redis defines it,
    /// else `_OTHER`, and the status description is a fixed sentence) or
    /// [`ErrorTextMode::Scrubbed`] (**unsafe-ish** opt-in: the reply's text, scrubbed of
    /// quoted runs, numbers and `key=value` values and capped, becomes the status
    /// description; a script's `redis.error_reply` can still put words of its choosing there).
    pub fn error_text(mut self, mode: ErrorTextMode) -> Self {
        self.error_text = mode;
        self
    }

    /// Traces only the operations for which `filter` returns `true`. It receives the
    /// operation name as recorded: `PING`, `CONFIG GET`, or `PIPELINE` / `MULTI` for
    /// pipelines (empty for an empty command). A filtered operation runs untraced.
    pub fn filter(mut self, filter: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// Names spans with `name` instead of the default (the command, `GET`, or the pipeline
    /// summary, `PIPELINE GET SET`).
    pub fn span_name(
        mut self,
        name: impl Fn(&OperationDescription<'_>) -> Cow<'static, str> + Send + Sync + 'static,
    ) -> Self {
        self.span_name = Some(Arc::new(name));
        self
    }

    /// Wraps `inner`.
    pub fn build<C>(self, inner: C) -> TracedConnection<C> {
        let recorder = match (self.prebuilt, self.recorder) {
            (Some(recorder), _) => recorder,
            (None, Some(builder)) => builder.build(),
            (None, None) => SpanRecorder::builder(SpanKind::Client, SCOPE_NAME).build(),
        };
        TracedConnection::from_parts(
            inner,
            Arc::new(Shared {
                recorder,
                server_address: self.server_address,
                server_port: self.server_port,
                db: self.db,
                namespace: db_namespace(self.db),
                text: self.text,
                error_text: self.error_text,
                filter: self.filter,
                span_name: self.span_name,
            }),
        )
    }
}

/// `server.address` / `server.port` of a connection address. The address is reference
/// counted, so the copies each command makes (operation, span and metric attributes) do not
/// allocate.
fn server_of(addr: &ConnectionAddr) -> (Option<StringValue>, Option<u16>) {
    let shared = |s: &str| Some(StringValue::from(Arc::<str>::from(s)));
    match addr {
        ConnectionAddr::Tcp(host, port) => (shared(host), Some(*port)),
        ConnectionAddr::TcpTls { host, port, .. } => (shared(host), Some(*port)),
        ConnectionAddr::Unix(path) => (shared(&path.display().to_string()), None),
        _ => (None, None),
    }
}

/// The db index as `db.namespace`: static for the 16 default databases.
fn db_namespace(db: i64) -> StringValue {
    const SMALL: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    ];
    usize::try_from(db)
        .ok()
        .and_then(|i| SMALL.get(i))
        .map_or_else(
            || StringValue::from(Arc::<str>::from(db.to_string())),
            |s| StringValue::from(*s),
        )
}
