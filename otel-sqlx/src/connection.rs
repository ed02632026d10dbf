//! [`TracedConnection`], the traced counterpart of a driver connection (`PgConnection`, ...),
//! and [`TracedPoolConnection`], the pool's handle that derefs to it (as sqlx's
//! `PoolConnection` derefs to `PgConnection`).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use otel_rpc::ConnectionUse;
use otel_rpc::current_context;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Execute, Executor, SqlSafeStr, SqlStr, Transaction};

use crate::backend::TracedDatabase;
use crate::instrumentation::Instrumentation;
use crate::parts::QueryParts;
use crate::stream::{TracedStream, traced_optional};
use crate::transaction::TracedTransaction;

/// A traced database connection: what `&mut *conn` of a [`TracedPoolConnection`] and `&mut
/// *tx` of a [`TracedTransaction`] give, as `&mut *conn` of sqlx's `PoolConnection` and
/// `Transaction` give `&mut PgConnection`. `&mut TracedConnection<DB>` is an [`Executor`], so
/// helpers taking `&mut TracedConnection<Postgres>` or `impl Executor<'_, Database = DB>`
/// accept pooled connections and transactions alike, and every query through them is traced.
/// There is no `Deref` to the raw driver connection.
///
/// ```no_run
/// # async fn demo(pool: otel_sqlx::TracedPool<sqlx::Postgres>) -> Result<(), sqlx::Error> {
/// use otel_sqlx::TracedConnection;
/// use sqlx::Postgres;
///
/// async fn mark_paid(conn: &mut TracedConnection<Postgres>, id: i64) -> Result<(), sqlx::Error> {
///     sqlx::query("UPDATE orders SET paid = true WHERE id = $1").bind(id).execute(conn).await?;
///     Ok(())
/// }
///
/// let mut conn = pool.acquire().await?;
/// mark_paid(&mut conn, 1).await?;          // `&mut TracedPoolConnection` derefs
/// let mut tx = pool.begin().await?;
/// mark_paid(&mut tx, 2).await?;            // `&mut TracedTransaction` derefs
/// sqlx::query("DELETE FROM carts").execute(&mut *tx).await?; // sqlx's own idiom
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub struct TracedConnection<DB: TracedDatabase> {
    pub(crate) conn: PoolConnection<DB>,
    pub(crate) shared: Arc<Instrumentation>,
    /// Transactions open through this crate (1: a transaction, 2 and more: savepoints). Our
    /// own count: the drivers' count lags behind a rollback queued by a drop (SQLite).
    pub(crate) depth: usize,
}

impl<DB: TracedDatabase> fmt::Debug for TracedConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnection")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl<DB: TracedDatabase> TracedConnection<DB> {
    /// Begins a transaction, or a savepoint when one is already open on this connection;
    /// records a `BEGIN` (or `SAVEPOINT`) span.
    pub async fn begin(&mut self) -> Result<TracedTransaction<'_, DB>, sqlx::Error> {
        TracedTransaction::begin_on(self, None).await
    }

    /// Begins a transaction with `statement` (e.g. `BEGIN ISOLATION LEVEL SERIALIZABLE`), as
    /// sqlx's `Connection::begin_with`: an error if a transaction is already open; records a
    /// `BEGIN` span.
    pub async fn begin_with(
        &mut self,
        statement: impl SqlSafeStr,
    ) -> Result<TracedTransaction<'_, DB>, sqlx::Error> {
        TracedTransaction::begin_on(self, Some(statement.into_sql_str())).await
    }
}

/// A connection checked out of a [`TracedPool`](crate::TracedPool)
/// ([`acquire`](crate::TracedPool::acquire), [`try_acquire`](crate::TracedPool::try_acquire)):
/// derefs to its [`TracedConnection`], so `&mut *conn` (sqlx's idiom) is a traced
/// [`Executor`]. Back to the pool when dropped; its use time is recorded by the pool metrics.
pub struct TracedPoolConnection<DB: TracedDatabase> {
    conn: TracedConnection<DB>,
    /// Records `db.client.connection.use_time` when dropped, after `conn` (field order).
    _use: Option<ConnectionUse>,
}

impl<DB: TracedDatabase> fmt::Debug for TracedPoolConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TracedPoolConnection")
            .field(&self.conn)
            .finish()
    }
}

impl<DB: TracedDatabase> TracedPoolConnection<DB> {
    pub(crate) fn new(
        conn: PoolConnection<DB>,
        shared: Arc<Instrumentation>,
        use_guard: Option<ConnectionUse>,
    ) -> Self {
        TracedPoolConnection {
            conn: TracedConnection {
                conn,
                shared,
                depth: 0,
            },
            _use: use_guard,
        }
    }
}

impl<DB: TracedDatabase> Deref for TracedPoolConnection<DB> {
    type Target = TracedConnection<DB>;

    fn deref(&self) -> &TracedConnection<DB> {
        &self.conn
    }
}

impl<DB: TracedDatabase> DerefMut for TracedPoolConnection<DB> {
    fn deref_mut(&mut self) -> &mut TracedConnection<DB> {
        &mut self.conn
    }
}

impl<'c, DB: TracedDatabase> Executor<'c> for &'c mut TracedConnection<DB>
where
    for<'a> &'a mut DB::Connection: Executor<'a, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let parts = QueryParts::<DB>::new(query);
        let mut span = self
            .shared
            .start_query(&current_context(), parts.sql.as_str());
        let parts = parts.commented(&mut span);
        TracedStream::<DB>::running((&mut *self.conn).fetch_many(parts), span).boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let parts = QueryParts::<DB>::new(query);
        let mut span = self
            .shared
            .start_query(&current_context(), parts.sql.as_str());
        let parts = parts.commented(&mut span);
        traced_optional(span, (&mut *self.conn).fetch_optional(parts)).boxed()
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        'c: 'e,
    {
        (&mut *self.conn).prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        'c: 'e,
    {
        (&mut *self.conn).describe(sql)
    }
}

/// sqlx's [`Acquire`], for helpers written against `A: Acquire<'c, Database = DB>` (called
/// with `&mut *conn` or `&mut *tx`). sqlx requires the acquired connection to deref to the
/// **raw** driver connection, so queries a helper sends through it are **not traced** by this
/// crate (the `query-log` feature's layer records them); prefer `impl Executor` or `&mut
/// TracedConnection<DB>` in helpers. [`Acquire::begin`] returns sqlx's untraced
/// `Transaction`.
impl<'c, DB: TracedDatabase> Acquire<'c> for &'c mut TracedConnection<DB> {
    type Database = DB;
    type Connection = &'c mut DB::Connection;

    fn acquire(self) -> BoxFuture<'c, Result<Self::Connection, sqlx::Error>> {
        Box::pin(std::future::ready(Ok(&mut *self.conn)))
    }

    fn begin(self) -> BoxFuture<'c, Result<Transaction<'c, DB>, sqlx::Error>> {
        Transaction::begin(&mut *self.conn, None)
    }
}
