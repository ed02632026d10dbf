//! [`TracedConnectionBuilder`]: options of a [`TracedConnection`], its constructors
//! (`builder`, `cluster_builder`, `new`) and `build`, which makes the configuration its clones
//! share.
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
use otel_rpc::{CommonOptions, DurationMetric, InstrumentationOptions};
use otel_rpc::{DbHooks, DbInstrumentationOptions};
use redis::ConnectionAddr;

use crate::connection::TracedConnection;
use crate::sanitize::TextOptions;
use crate::shared::{Shared, db_namespace};

/// Instrumentation scope name of the spans and metrics this crate records.
pub const SCOPE: &str = "otel-redis";

/// The short instrumentation name: the environment switch is
/// `OTEL_INSTRUMENTATION_REDIS_ENABLED` (`false` makes every connection a pass-through).
pub(crate) const INSTRUMENTATION_NAME: &str = "redis";

/// The constructors, beside the builder they start.
impl TracedConnection<()> {
    /// Options for connections made from `client`; finish with
    /// [`TracedConnectionBuilder::build`], which takes the connection to wrap.
    pub fn builder(client: &redis::Client) -> TracedConnectionBuilder {
        TracedConnectionBuilder::new(client)
    }

    /// Options for connections made from a cluster client (feature `cluster`): the async
    /// `redis::cluster_async::ClusterConnection` or the blocking
    /// `redis::cluster::ClusterConnection`. Spans carry `db.namespace` `"0"` and no
    /// `server.address` / `server.port`: redis-rs routes each command to a node inside the
    /// connection and does not tell which one served it.
    #[cfg(feature = "cluster")]
    pub fn cluster_builder(client: &redis::cluster::ClusterClient) -> TracedConnectionBuilder {
        TracedConnectionBuilder::cluster(client)
    }
}

impl<C> TracedConnection<C> {
    /// Wraps `inner`, a connection made from `client`, with the default options: global
    /// tracer and meter providers, sanitized query text capped at 2 KiB. `server.address`,
    /// `server.port` and `db.namespace` (the db index) come from the client's connection info.
    pub fn new(client: &redis::Client, inner: C) -> Self {
        TracedConnectionBuilder::new(client).build(inner)
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
    /// [`InstrumentationOptions::tracer_provider`], callable without importing the trait (the
    /// word a redis-rs user reaches for first, as on the SDK's own builders).
    pub fn tracer_provider<P>(self, provider: P) -> Self
    where
        P: opentelemetry::trace::TracerProvider + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
    {
        InstrumentationOptions::tracer_provider(self, provider)
    }

    /// [`InstrumentationOptions::meter_provider`], callable without importing the trait.
    pub fn meter_provider<P>(self, provider: P) -> Self
    where
        P: opentelemetry::metrics::MeterProvider + Send + Sync + 'static,
    {
        InstrumentationOptions::meter_provider(self, provider)
    }

    /// [`InstrumentationOptions::disable_metrics`], callable without importing the trait.
    pub fn disable_metrics(self) -> Self {
        InstrumentationOptions::disable_metrics(self)
    }

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
                SCOPE,
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
                prepared: Shared::command_cache(),
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
