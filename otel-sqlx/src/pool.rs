//! [`TracedPool`]: a `sqlx::Pool` whose queries become spans, and its builder.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use opentelemetry::metrics::MeterProvider;
use opentelemetry::trace::{SpanKind, Tracer, TracerProvider};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::text::QueryTextMode;
use otel_rpc::{ErrorTextMode, SpanRecorder, SpanRecorderBuilder, current_context};
use sqlx::database::Database;
use sqlx::{Execute, Executor, Pool, SqlStr, Transaction};

use crate::backend::TracedDatabase;
use crate::connection::TracedConnection;
use crate::instrumentation::Instrumentation;
use crate::options::TracingOptions;
use crate::parts::QueryParts;
use crate::sql::{QueryCache, QueryInfo};
use crate::stream::{TracedStream, traced_optional};
use crate::transaction::TracedTransaction;

/// Instrumentation scope name of the spans and metrics of this crate.
pub const SCOPE: &str = "otel-sqlx";

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

    /// A builder to set providers and options.
    pub fn builder(pool: Pool<DB>) -> TracedPoolBuilder<DB> {
        TracedPoolBuilder {
            pool,
            recorder: SpanRecorder::builder(SpanKind::Client, SCOPE)
                .scope_version(env!("CARGO_PKG_VERSION"))
                .status_code_attribute(attribute::DB_RESPONSE_STATUS_CODE),
            options: TracingOptions::default(),
        }
    }

    /// The wrapped pool. Queries run on it directly are **not** traced.
    pub fn inner(&self) -> &Pool<DB> {
        &self.pool
    }

    /// The per-pool cache of analysed SQL (and the sanitizer run counter).
    pub fn query_cache(&self) -> &QueryCache {
        &self.shared.cache
    }

    /// The options in effect.
    pub fn options(&self) -> &TracingOptions {
        &self.shared.options
    }

    /// `db.system.name` as currently known (`mariadb` is known after the first connection).
    pub fn system_name(&self) -> &'static str {
        self.shared.system()
    }

    /// A traced connection from the pool. On MySQL the server is asked once whether it is
    /// MariaDB.
    pub async fn acquire(&self) -> Result<TracedConnection<DB>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        self.shared.detect::<DB>(&mut conn).await;
        Ok(TracedConnection::new(conn, Arc::clone(&self.shared)))
    }

    /// Begins a transaction on a pooled connection; records a `BEGIN` span (which includes
    /// waiting for the connection).
    pub async fn begin(&self) -> Result<TracedTransaction<'static, DB>, sqlx::Error> {
        let parent = current_context();
        if self.shared.needs_detection()
            && let Ok(mut conn) = self.pool.acquire().await
        {
            self.shared.detect::<DB>(&mut conn).await;
        }
        let recording = self.shared.start_control(&parent, "BEGIN");
        let result = self.pool.begin().await;
        self.shared.end_control(recording, &result);
        result.map(|tx| TracedTransaction::new(tx, Arc::clone(&self.shared), 1))
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
                Err(_) => otel_rpc::health::count_swallowed_error(),
            }
        }))
    }
}

/// Builds a [`TracedPool`]; see [`TracedPool::builder`].
#[must_use]
pub struct TracedPoolBuilder<DB: Database> {
    pool: Pool<DB>,
    recorder: SpanRecorderBuilder,
    options: TracingOptions,
}

impl<DB: Database> fmt::Debug for TracedPoolBuilder<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedPoolBuilder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<DB: TracedDatabase> TracedPoolBuilder<DB> {
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
    pub fn meter_provider<P: MeterProvider + Send + 'static>(mut self, provider: P) -> Self {
        self.recorder = self.recorder.meter_provider(provider);
        self
    }

    /// Turns the `db.client.operation.duration` histogram off.
    pub fn disable_metrics(mut self) -> Self {
        self.recorder = self.recorder.disable_metrics();
        self
    }

    /// How `db.query.text` is captured: [`QueryTextMode::Sanitized`] (default),
    /// [`QueryTextMode::Off`], or [`QueryTextMode::Raw`] (**unsafe**: literal values reach
    /// your tracing backend; error messages stay governed by [`error_text`](Self::error_text)).
    pub fn query_text(mut self, mode: QueryTextMode) -> Self {
        self.options.query_text = mode;
        self
    }

    /// Server and driver error text on failed spans: [`ErrorTextMode::Off`] (default: only
    /// the SQLSTATE / SQLite result code and a fixed description per class) or
    /// [`ErrorTextMode::Scrubbed`] (**opt-in, unsafe-ish**: the message, with quoted runs,
    /// numbers and `key=value` values replaced by `?`, capped at 256 bytes; a value written
    /// as a bare word stays). Never on metric attributes.
    pub fn error_text(mut self, mode: ErrorTextMode) -> Self {
        self.options.error_text = mode;
        self
    }

    /// Cap on `db.query.text` in bytes (default 2 KiB), cut on a char boundary.
    pub fn max_query_text_len(mut self, max: usize) -> Self {
        self.options.max_query_text_len = max;
        self
    }

    /// Records `db.response.returned_rows` and
    /// [`db.response.affected_rows`](crate::DB_RESPONSE_AFFECTED_ROWS) (opt-in).
    pub fn record_row_counts(mut self, on: bool) -> Self {
        self.options.record_row_counts = on;
        self
    }

    /// Number of distinct SQL strings whose analysis is cached (default 512; 0 disables).
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.options.cache_capacity = capacity;
        self
    }

    /// Only queries whose SQL passes `filter` get a span (the others still run).
    pub fn filter(mut self, filter: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.options.filter = Some(Arc::new(filter));
        self
    }

    /// Custom span names from the query's analysis; return `None` for the default (the
    /// `db.query.summary`, e.g. `SELECT users`).
    pub fn span_name(
        mut self,
        namer: impl Fn(&QueryInfo) -> Option<Cow<'static, str>> + Send + Sync + 'static,
    ) -> Self {
        self.options.span_name = Some(Arc::new(namer));
        self
    }

    /// Builds the traced pool.
    pub fn build(self) -> TracedPool<DB> {
        let info = DB::connection_info(&self.pool.connect_options());
        let shared = Instrumentation::new::<DB>(self.recorder.build(), self.options, info);
        TracedPool {
            pool: self.pool,
            shared: Arc::new(shared),
        }
    }
}

impl<'p, DB: TracedDatabase> Executor<'p> for &'_ TracedPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Self::Database>,
    {
        let parent = current_context();
        let parts = QueryParts::<DB>::new(query);
        let pool = self.pool.clone();
        let shared = Arc::clone(&self.shared);
        match self.detection() {
            None => {
                let span = shared.start_query(&parent, parts.sql.as_str());
                TracedStream::<DB>::running((&pool).fetch_many(parts), span).boxed()
            }
            Some(detect) => TracedStream::<DB>::starting(Box::pin(async move {
                detect.await;
                let span = shared.start_query(&parent, parts.sql.as_str());
                ((&pool).fetch_many(parts), span)
            }))
            .boxed(),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Self::Database>,
    {
        let parent = current_context();
        let parts = QueryParts::<DB>::new(query);
        let pool = self.pool.clone();
        let shared = Arc::clone(&self.shared);
        let detect = self.detection();
        Box::pin(async move {
            if let Some(detect) = detect {
                detect.await;
            }
            let span = shared.start_query(&parent, parts.sql.as_str());
            traced_optional(span, (&pool).fetch_optional(parts)).await
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.pool.clone();
        async move { (&pool).prepare_with(sql, parameters).await }.boxed()
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        'p: 'e,
    {
        let pool = self.pool.clone();
        async move { (&pool).describe(sql).await }.boxed()
    }
}

/// Statements begun on a traced transaction use this to reach its connection.
pub(crate) fn begin_on<'c, DB: TracedDatabase>(
    conn: &'c mut DB::Connection,
) -> BoxFuture<'c, Result<Transaction<'c, DB>, sqlx::Error>> {
    Transaction::begin(conn, None)
}
