//! [`TracedConnectionBuilder`]: options of a [`TracedConnection`] and the configuration its
//! clones share.
//!
//! The builder speaks the shared vocabulary of `otel-rpc`
//! ([`InstrumentationOptions`](otel_rpc::InstrumentationOptions) and
//! [`DbInstrumentationOptions`](otel_rpc::DbInstrumentationOptions), re-exported at
//! this crate's root): the same words mean the same thing in every crate of the workspace.

use std::fmt;
use std::sync::Arc;

use opentelemetry::StringValue;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{
    CommonOptions, DurationMetric, ErrorTextMode, InstrumentationOptions, SpanRecorder,
};
use otel_rpc::{DbHooks, DbInstrumentationOptions};
use redis::ConnectionAddr;

use crate::TracedConnection;
use crate::sanitize::TextOptions;

/// Instrumentation scope name of the spans and metrics this crate records.
pub const SCOPE_NAME: &str = "otel-redis";

/// The short instrumentation name: the environment switch is
/// `OTEL_INSTRUMENTATION_REDIS_ENABLED` (`false` makes every connection a pass-through).
pub const INSTRUMENTATION_NAME: &str = "redis";

/// Configuration shared by a [`TracedConnection`] and its clones.
pub(crate) struct Shared {
    /// `None` when the instrumentation is disabled: a pass-through.
    pub(crate) recorder: Option<SpanRecorder>,
    pub(crate) server_address: Option<StringValue>,
    pub(crate) server_port: Option<u16>,
    pub(crate) db: i64,
    pub(crate) namespace: StringValue,
    /// Whether a blocking connection's `db.namespace` follows `SELECT` (not on a cluster:
    /// there a `SELECT` reaches one node); see [`crate::select`].
    #[cfg(feature = "sync")]
    pub(crate) follows_select: bool,
    pub(crate) text: TextOptions,
    pub(crate) error_text: ErrorTextMode,
    pub(crate) hooks: DbHooks,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnectionConfig")
            .field("enabled", &self.recorder.is_some())
            .field(
                "server_address",
                &self.server_address.as_ref().map(StringValue::as_str),
            )
            .field("server_port", &self.server_port)
            .field("db", &self.db)
            .field("query_text", &self.text.mode)
            .field("max_query_text_len", &self.text.max_len)
            .field("error_text", &self.error_text)
            .field("hooks", &self.hooks)
            .finish()
    }
}

impl Shared {
    /// `db.namespace` for `db` (the connection's current database), `None` when it is
    /// unknown.
    pub(crate) fn namespace(&self, db: i64) -> Option<StringValue> {
        if db == self.db {
            Some(self.namespace.clone())
        } else {
            (db >= 0).then(|| db_namespace(db))
        }
    }
}

/// Builds a [`TracedConnection`]; see [`TracedConnection::builder`].
///
/// The options are the shared words of every crate of this workspace (bring the traits into
/// scope: `use otel_redis::{DbInstrumentationOptions, InstrumentationOptions};`):
///
/// ```
/// use std::borrow::Cow;
/// use opentelemetry_sdk::{metrics::SdkMeterProvider, trace::SdkTracerProvider};
/// use otel_redis::{DbInstrumentationOptions, ErrorTextMode, InstrumentationOptions, QueryTextMode};
/// use otel_rpc::DbOperation;
/// use otel_rpc::{Observed, Verdict};
///
/// let (tracer_provider, meter_provider) = (SdkTracerProvider::default(), SdkMeterProvider::default());
/// let client = redis::Client::open("redis://127.0.0.1:6379/2").unwrap();
/// // The same words as every crate's builder (otel-sqlx, otel-mongo, the otel-rpc layers):
/// let builder = otel_redis::TracedConnection::builder(&client)
///     .tracer_provider(tracer_provider)
///     .meter_provider(meter_provider)
///     .query_text(QueryTextMode::Sanitized)
///     .max_query_text_len(512)
///     .error_text(ErrorTextMode::Off)
///     // A missing script is expected here (EVALSHA falls back to EVAL): not an error.
///     .classify(|o| match o {
///         Observed::Db { status_code: Some("NOSCRIPT"), .. } => Some(Verdict::NotError),
///         _ => None,
///     })
///     .filter(|op: &DbOperation| op.operation.as_ref().is_none_or(|o| o.as_str() != "PING"))
///     .span_name(|op: &DbOperation| Cow::Owned(format!("redis {}", op.span_name())))
///     .enabled(true);
/// # let _ = builder;
/// ```
#[must_use]
pub struct TracedConnectionBuilder {
    common: CommonOptions,
    hooks: DbHooks,
    server_address: Option<StringValue>,
    server_port: Option<u16>,
    db: i64,
    cluster: bool,
}

impl fmt::Debug for TracedConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnectionBuilder")
            .field("common", &self.common)
            .field("hooks", &self.hooks)
            .field(
                "server_address",
                &self.server_address.as_ref().map(StringValue::as_str),
            )
            .field("server_port", &self.server_port)
            .field("db", &self.db)
            .field("cluster", &self.cluster)
            .finish()
    }
}

impl InstrumentationOptions for TracedConnectionBuilder {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
}

impl DbInstrumentationOptions for TracedConnectionBuilder {
    fn db_hooks(&mut self) -> &mut DbHooks {
        &mut self.hooks
    }
}

impl TracedConnectionBuilder {
    pub(crate) fn new(client: &redis::Client) -> Self {
        let info = client.get_connection_info();
        let (server_address, server_port) = server_of(info.addr());
        TracedConnectionBuilder {
            common: CommonOptions::new(INSTRUMENTATION_NAME),
            hooks: DbHooks::default(),
            server_address,
            server_port,
            db: info.redis_settings().db(),
            cluster: false,
        }
    }

    /// Options for connections made from a cluster client: no `server.address` /
    /// `server.port` (redis-rs routes each command inside the connection and does not tell
    /// which node served it), db `0` (what redis-rs's cluster connections report; the client
    /// does not give its configured database back).
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(_client: &redis::cluster::ClusterClient) -> Self {
        TracedConnectionBuilder {
            common: CommonOptions::new(INSTRUMENTATION_NAME),
            hooks: DbHooks::default(),
            server_address: None,
            server_port: None,
            db: 0,
            cluster: true,
        }
    }

    /// Wraps `inner`.
    pub fn build<C>(self, inner: C) -> TracedConnection<C> {
        let common = self.common;
        let recorder = common.enabled.then(|| {
            common.build_recorder(
                SpanKind::Client,
                SCOPE_NAME,
                Some(env!("CARGO_PKG_VERSION")),
                DurationMetric::db_client(),
                Some(attribute::DB_RESPONSE_STATUS_CODE),
            )
        });
        TracedConnection::from_parts(
            inner,
            Arc::new(Shared {
                recorder,
                server_address: self.server_address,
                server_port: self.server_port,
                db: self.db,
                namespace: db_namespace(self.db),
                #[cfg(feature = "sync")]
                follows_select: !self.cluster,
                text: TextOptions {
                    mode: common.query_text,
                    max_len: common.max_query_text_len,
                },
                error_text: common.error_text,
                hooks: self.hooks,
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
