//! [`TracedPool`]: a `sqlx::Pool` whose queries become spans, and its builder.

use std::fmt;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::MeterProvider;
use otel_rpc::Outcome;
use otel_rpc::current_context;
use otel_rpc::pool::{PoolCounts, PoolLimits, PoolMetrics, PoolObserver, default_pool_name};
use otel_rpc::{CommonOptions, DbHooks, DbInstrumentationOptions, InstrumentationOptions};
use sqlx::database::Database;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Executor, Pool, SqlSafeStr, SqlStr, Transaction};

use crate::backend::TracedDatabase;
use crate::checkout::{Checkout, fetch_many_on_checkout};
use crate::commenter::SqlCommenter;
use crate::connection::TracedPoolConnection;
use crate::executor::{Target, traced_executor};
use crate::instrumentation::{Instrumentation, SCOPE};
use crate::options::TracingOptions;
use crate::parts::{Item, QueryParts};
use crate::transaction::TracedTransaction;

/// The instrumentation scope of the pool metrics (the spans' scope, built by the recorder).
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE)
        .with_version(env!("CARGO_PKG_VERSION"))
        .with_schema_url(otel_rpc::Domain::Db.schema_url())
        .build()
}

/// A `sqlx::Pool` whose every query, connection and transaction is traced.
///
/// `&TracedPool<DB>` is an [`Executor`], so `sqlx::query(..).fetch_all(&pool)`, `query_as`,
/// `query_scalar` and the `query!` macros work unchanged. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), sqlx::Error> {
/// use otel_sqlx::TracedPool;
/// let pool = TracedPool::new(sqlx::PgPool::connect("postgres://localhost/shop").await?);
/// let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&pool).await?;
/// # let _ = n; Ok(()) }
/// ```
pub struct TracedPool<DB: Database> {
    pool: Pool<DB>,
    pub(crate) shared: Arc<Instrumentation>,
}

impl<DB: Database> Clone for TracedPool<DB> {
    fn clone(&self) -> Self {
        TracedPool {
            pool: self.pool.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<DB: Database> fmt::Debug for TracedPool<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedPool")
            .field("pool", &self.pool)
            .field("instrumentation", &self.shared)
            .finish()
    }
}

impl<DB: TracedDatabase> TracedPool<DB> {
    /// Wraps `pool` with the default options and the global tracer and meter providers.
    pub fn new(pool: Pool<DB>) -> Self {
        Self::builder(pool).build()
    }

    /// A builder to set providers and options: the shared words of
    /// [`InstrumentationOptions`] and [`DbInstrumentationOptions`] (bring them into scope:
    /// `use otel_sqlx::{InstrumentationOptions as _, DbInstrumentationOptions as _};`) plus
    /// the sqlx-specific methods of [`TracedPoolBuilder`].
    pub fn builder(pool: Pool<DB>) -> TracedPoolBuilder<DB> {
        TracedPoolBuilder {
            pool,
            common: CommonOptions::new("sqlx"),
            hooks: DbHooks::default(),
            options: TracingOptions::default(),
        }
    }

    /// A builder for a pool created here, lazily (no connection is opened until the first
    /// checkout), with the `after_connect` hook that lets the pool metrics record
    /// `db.client.connection.create_time` for every connection a checkout opens (from the
    /// start of that checkout until the connection is established). It **replaces** an
    /// `after_connect` hook set on `options`. Pools built by the application record no
    /// create time (sqlx has no hook around opening a connection), and neither do
    /// connections sqlx opens on its own maintenance task (`min_connections`).
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sqlx::Error> {
    /// let pool = otel_sqlx::TracedPool::<sqlx::Postgres>::connect_lazy_with(
    ///     sqlx::postgres::PgPoolOptions::new().max_connections(8),
    ///     "postgres://localhost/shop".parse()?,
    /// )
    /// .build();
    /// # let _ = pool; Ok(()) }
    /// ```
    pub fn connect_lazy_with(
        options: sqlx::pool::PoolOptions<DB>,
        connect: <DB::Connection as sqlx::Connection>::Options,
    ) -> TracedPoolBuilder<DB> {
        let pool = options
            .after_connect(|_conn, _meta| {
                crate::checkout::connection_opened();
                Box::pin(std::future::ready(Ok(())))
            })
            .connect_lazy_with(connect);
        Self::builder(pool)
    }

    /// The wrapped pool. Queries run on it directly are **not** traced.
    pub fn inner(&self) -> &Pool<DB> {
        &self.pool
    }

    /// The per-pool cache of analysed SQL (and the sanitizer run counter). Feature
    /// `testing`.
    #[cfg(feature = "testing")]
    pub fn query_cache(&self) -> &crate::statement::QueryCache {
        &self.shared.cache
    }

    /// `db.system.name` as currently known (`mariadb` is known after the first connection).
    pub fn system_name(&self) -> &'static str {
        self.shared.system()
    }

    /// The pool metrics observer (`db.client.connection.*`), when pool metrics are on.
    /// Feature `testing`.
    #[cfg(feature = "testing")]
    pub fn pool_observer(&self) -> Option<&PoolObserver> {
        self.shared.pool.as_ref()
    }

    /// A traced connection from the pool (its wait and use are recorded by the pool
    /// metrics), as `Pool::acquire`. On MySQL the server is asked once whether it is MariaDB.
    pub async fn acquire(&self) -> Result<TracedPoolConnection<DB>, sqlx::Error> {
        let checkout = Checkout::acquire(&self.pool, self.shared.pool.as_ref()).await?;
        Ok(self.pooled(checkout).await)
    }

    /// A traced connection if one is idle now, as `Pool::try_acquire` (`None` otherwise,
    /// without waiting). Async only because the first checkout of a MySQL pool asks the server
    /// whether it is MariaDB.
    pub async fn try_acquire(&self) -> Option<TracedPoolConnection<DB>> {
        let checkout = Checkout::try_acquire(&self.pool, self.shared.pool.as_ref())?;
        Some(self.pooled(checkout).await)
    }

    /// Begins a transaction on a pooled connection, as `Pool::begin`; records a `BEGIN` span
    /// (which includes waiting for the connection).
    pub async fn begin(&self) -> Result<TracedTransaction<'static, DB>, sqlx::Error> {
        self.begin_checked_out(None).await
    }

    /// Begins a transaction with `statement` (e.g. `BEGIN ISOLATION LEVEL SERIALIZABLE`), as
    /// `Pool::begin_with`; records a `BEGIN` span.
    pub async fn begin_with(
        &self,
        statement: impl SqlSafeStr,
    ) -> Result<TracedTransaction<'static, DB>, sqlx::Error> {
        self.begin_checked_out(Some(statement.into_sql_str())).await
    }

    /// Begins a transaction if a connection is idle now, as `Pool::try_begin`: `Ok(None)`
    /// (and no span) when none is.
    pub async fn try_begin(&self) -> Result<Option<TracedTransaction<'static, DB>>, sqlx::Error> {
        self.try_begin_checked_out(None).await
    }

    /// [`try_begin`](Self::try_begin) with `statement`, as `Pool::try_begin_with`.
    pub async fn try_begin_with(
        &self,
        statement: impl SqlSafeStr,
    ) -> Result<Option<TracedTransaction<'static, DB>>, sqlx::Error> {
        self.try_begin_checked_out(Some(statement.into_sql_str()))
            .await
    }

    /// The traced handle of a checked-out connection (asking a MySQL server once whether it
    /// is MariaDB).
    async fn pooled(&self, checkout: Checkout<DB>) -> TracedPoolConnection<DB> {
        let (mut conn, use_guard) = checkout.into_parts();
        self.shared.detect::<DB>(&mut conn).await;
        TracedPoolConnection::new(conn, Arc::clone(&self.shared), use_guard)
    }

    async fn begin_checked_out(
        &self,
        statement: Option<SqlStr>,
    ) -> Result<TracedTransaction<'static, DB>, sqlx::Error> {
        let parent = current_context();
        // The span's `db.system.name` must be known before it starts, so before the checkout.
        if let Some(detect) = self.detection() {
            detect.await;
        }
        let recording = self.shared.start_control(&parent, "BEGIN");
        match Checkout::acquire(&self.pool, self.shared.pool.as_ref()).await {
            Ok(checkout) => {
                let conn = self.pooled(checkout).await;
                TracedTransaction::begin_pooled(conn, statement, recording).await
            }
            Err(e) => {
                recording.end(Outcome::Failure(self.shared.failure(&e)));
                Err(e)
            }
        }
    }

    async fn try_begin_checked_out(
        &self,
        statement: Option<SqlStr>,
    ) -> Result<Option<TracedTransaction<'static, DB>>, sqlx::Error> {
        let parent = current_context();
        let Some(checkout) = Checkout::try_acquire(&self.pool, self.shared.pool.as_ref()) else {
            return Ok(None);
        };
        let conn = self.pooled(checkout).await;
        let recording = self.shared.start_control(&parent, "BEGIN");
        TracedTransaction::begin_pooled(conn, statement, recording)
            .await
            .map(Some)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn detection(&self) -> Option<BoxFuture<'static, ()>> {
        if !self.shared.needs_detection() {
            return None;
        }
        let pool = self.pool.clone();
        let shared = Arc::clone(&self.shared);
        Some(Box::pin(async move {
            match pool.acquire().await {
                Ok(mut conn) => shared.detect::<DB>(&mut conn).await,
                Err(_) => otel_rpc::count_swallowed_error(),
            }
        }))
    }
}

/// Builds a [`TracedPool`]; see [`TracedPool::builder`].
///
/// The options are the shared words of every crate of this workspace
/// ([`InstrumentationOptions`], [`DbInstrumentationOptions`]) plus the sqlx-specific methods
/// below:
///
/// ```
/// use std::borrow::Cow;
/// use opentelemetry_sdk::{metrics::SdkMeterProvider, trace::SdkTracerProvider};
/// use otel_rpc::DbOperation;
/// use otel_rpc::{Observed, Verdict};
/// use otel_sqlx::{
///     DbInstrumentationOptions, ErrorTextMode, InstrumentationOptions, QueryTextMode,
///     TracedDatabase, TracedPool,
/// };
///
/// // The same words as every crate's builder (otel-mongo, otel-redis, the otel-rpc layers):
/// fn traced<DB: TracedDatabase>(pool: sqlx::Pool<DB>) -> TracedPool<DB> {
///     let (tracer_provider, meter_provider) =
///         (SdkTracerProvider::default(), SdkMeterProvider::default());
///     TracedPool::builder(pool)
///         .tracer_provider(tracer_provider)
///         .meter_provider(meter_provider)
///         .query_text(QueryTextMode::Sanitized)
///         .error_text(ErrorTextMode::Off)
///         // A unique violation is expected on this pool: not an error.
///         .classify(|o| match o {
///             Observed::Db { status_code: Some("23505"), .. } => Some(Verdict::NotError),
///             _ => None,
///         })
///         // No span for the health check `SELECT 1` (its summary is `SELECT`).
///         .filter(|op: &DbOperation| op.summary.as_ref().is_none_or(|s| s.as_str() != "SELECT"))
///         .span_name(|op: &DbOperation| Cow::Owned(format!("sql {}", op.span_name())))
///         .enabled(true)
///         .build()
/// }
/// ```
#[must_use]
pub struct TracedPoolBuilder<DB: Database> {
    pool: Pool<DB>,
    common: CommonOptions,
    hooks: DbHooks,
    options: TracingOptions,
}

impl<DB: Database> InstrumentationOptions for TracedPoolBuilder<DB> {
    fn common_options(&mut self) -> &mut CommonOptions {
        &mut self.common
    }
}

impl<DB: Database> DbInstrumentationOptions for TracedPoolBuilder<DB> {
    fn db_hooks(&mut self) -> &mut DbHooks {
        &mut self.hooks
    }
}

impl<DB: Database> fmt::Debug for TracedPoolBuilder<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedPoolBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<DB: TracedDatabase> TracedPoolBuilder<DB> {
    /// Uses `provider` instead of the global meter provider, for the duration histogram and
    /// the pool metrics (the same as [`InstrumentationOptions::meter_provider`], callable
    /// without importing the trait).
    pub fn meter_provider<P>(self, provider: P) -> Self
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        InstrumentationOptions::meter_provider(self, provider)
    }

    /// Turns every metric of this pool off: the duration histogram and the pool metrics (the
    /// same as [`InstrumentationOptions::disable_metrics`], callable without importing the
    /// trait).
    pub fn disable_metrics(self) -> Self {
        InstrumentationOptions::disable_metrics(self)
    }

    crate::options::statement_options!();

    /// Turns the `db.client.connection.*` pool metrics off or on (default on;
    /// [`disable_metrics`](InstrumentationOptions::disable_metrics) turns them off too).
    pub fn pool_metrics(mut self, on: bool) -> Self {
        self.options.pool_metrics = on;
        self
    }

    /// `db.client.connection.pool.name` (default `server.address:server.port/db.namespace`,
    /// SQLite: the file name). Keep it low-cardinality: one name per pool.
    pub fn pool_name(mut self, name: impl Into<String>) -> Self {
        self.options.pool_name = Some(name.into());
        self
    }

    /// Opt-in [sqlcommenter](https://google.github.io/sqlcommenter/): appends
    /// `/*traceparent='..',tracestate='..'*/` (plus `commenter`'s static tags) to the text of
    /// **sampled** statements, so the database's logs and `pg_stat_activity` show the trace.
    /// Commented statements are sent unnamed (non-persistent), so sqlx's prepared-statement
    /// cache never holds the unique text; unsampled statements are sent unchanged.
    /// `db.query.text` and the summary never include the comment; statements that already
    /// hold a comment are not changed.
    pub fn sqlcommenter(mut self, commenter: SqlCommenter) -> Self {
        self.options.sqlcommenter = Some(commenter);
        self
    }

    /// Builds the traced pool.
    pub fn build(mut self) -> TracedPool<DB> {
        let common = &self.common;
        let recorder = crate::instrumentation::build_recorder(common, &mut self.options);
        let pool_metrics = common.enabled && common.metrics && self.options.pool_metrics;
        let info = DB::connection_info(&self.pool.connect_options());
        let mut shared = Instrumentation::new::<DB>(
            recorder,
            self.options,
            self.hooks,
            self.common.enabled,
            info,
        );
        if pool_metrics {
            // The one meter source: the provider given through the trait (or the inherent
            // word), else the global one (followed if it is replaced later).
            let metrics = self.common.pool_metrics(scope());
            shared.pool = Some(observe_pool(&self.pool, &metrics, &shared));
        }
        TracedPool {
            pool: self.pool,
            shared: Arc::new(shared),
        }
    }
}

/// The pool's observer: limits from its options, counts read from it at collection time.
fn observe_pool<DB: Database>(
    pool: &Pool<DB>,
    metrics: &PoolMetrics,
    shared: &Instrumentation,
) -> PoolObserver {
    let name = shared.options.pool_name.clone().unwrap_or_else(|| {
        let info = shared.info();
        default_pool_name(
            info.address.as_deref(),
            info.port,
            info.namespace.as_deref(),
        )
    });
    let observer = metrics.pool(name);
    let options = pool.options();
    let max = u64::from(options.get_max_connections());
    observer.set_limits(PoolLimits {
        max: Some(max),
        idle_min: Some(u64::from(options.get_min_connections())),
        // sqlx keeps every released connection idle up to the pool's maximum.
        idle_max: Some(max),
    });
    // This handle lives in the observer's state, which the metrics registry holds weakly: it
    // is released with the last clone of the TracedPool.
    let weak = pool.clone();
    observer.counts_from(move || {
        if weak.is_closed() {
            return Some(PoolCounts::default());
        }
        let size = u64::from(weak.size());
        let idle = u64::try_from(weak.num_idle()).unwrap_or(u64::MAX).min(size);
        Some(PoolCounts {
            idle,
            used: size - idle,
        })
    });
    observer
}

/// Each statement runs on a connection checked out of the pool for it (under the pool
/// metrics), after the server detection when one is still due.
impl<DB: TracedDatabase> Target<DB> for TracedPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn instrumentation(&self) -> &Arc<Instrumentation> {
        &self.shared
    }

    fn detection(&self) -> Option<BoxFuture<'static, ()>> {
        TracedPool::detection(self)
    }

    fn fetch_many<'e>(self, parts: QueryParts<DB>) -> BoxStream<'e, Item<DB>>
    where
        Self: 'e,
    {
        let observer = self.shared.pool.clone();
        fetch_many_on_checkout::<DB, _>(self.pool, observer, parts).boxed()
    }

    async fn fetch_optional<'e>(self, parts: QueryParts<DB>) -> Result<Option<DB::Row>, sqlx::Error>
    where
        Self: 'e,
    {
        let checkout = Checkout::acquire(&self.pool, self.shared.pool.as_ref()).await?;
        let (mut conn, use_guard) = checkout.into_parts();
        let result = (&mut *conn).fetch_optional(parts).await;
        drop(conn);
        drop(use_guard);
        result
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        Self: 'e,
    {
        async move { (&self.pool).prepare_with(sql, parameters).await }.boxed()
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        Self: 'e,
    {
        async move { (&self.pool).describe(sql).await }.boxed()
    }
}

// `&TracedPool<DB>` is a traced `Executor` (the statement runs on a clone of the pool).
traced_executor!('p, &'_ TracedPool<DB>, TracedPool::clone);

/// sqlx's [`Acquire`], so `sqlx::migrate!().run(&pool)` and helpers written against
/// `A: Acquire<'_, Database = DB>` accept a `&TracedPool`. sqlx requires the acquired
/// connection to deref to the **raw** driver connection, so this hands out sqlx's own
/// `PoolConnection` (and [`Acquire::begin`] sqlx's own `Transaction`): queries sent through
/// them are **not traced** by this crate, and their checkout is not in the pool metrics. The
/// `query-log` feature's layer records them from sqlx's statement log.
impl<'a, DB: TracedDatabase> Acquire<'a> for &'_ TracedPool<DB> {
    type Database = DB;
    type Connection = PoolConnection<DB>;

    fn acquire(self) -> BoxFuture<'static, Result<PoolConnection<DB>, sqlx::Error>> {
        Box::pin(self.pool.acquire())
    }

    fn begin(self) -> BoxFuture<'static, Result<Transaction<'a, DB>, sqlx::Error>> {
        let pool = self.pool.clone();
        Box::pin(async move { pool.begin().await })
    }
}
