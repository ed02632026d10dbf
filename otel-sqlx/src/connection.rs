//! [`TracedSqlConnection`], the traced counterpart of a driver connection (`PgConnection`, ...),
//! and [`TracedPoolConnection`], the pool's handle that derefs to it (as sqlx's
//! `PoolConnection` derefs to `PgConnection`).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use otel_rpc::pool::ConnectionUse;
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Executor, SqlStr, Transaction};

use crate::backend::TracedDatabase;
use crate::executor::{Target, traced_executor};
use crate::instrumentation::Instrumentation;
use crate::parts::{Item, QueryParts};

/// A traced database connection: what `&mut *conn` of a [`TracedPoolConnection`] and
/// `&mut *tx` of a [`TracedTransaction`](crate::TracedTransaction) give, as `&mut *conn` of
/// sqlx's `PoolConnection` and `Transaction` give `&mut PgConnection`.
/// `&mut TracedSqlConnection<DB>` is an [`Executor`], so helpers taking
/// `&mut TracedSqlConnection<Postgres>` or `impl Executor<'_, Database = DB>` accept pooled
/// connections and transactions alike, and every query through them is traced. There is no
/// `Deref` to the raw driver connection.
///
/// It is always a connection of a [`TracedPool`](crate::TracedPool), never one you wrap
/// yourself (otel-redis's `TracedConnection` is that: a wrapper of your connection), hence
/// its own name.
///
/// ```no_run
/// # async fn demo(pool: otel_sqlx::TracedPool<sqlx::Postgres>) -> Result<(), sqlx::Error> {
/// use otel_sqlx::TracedSqlConnection;
/// use sqlx::Postgres;
///
/// async fn mark_paid(conn: &mut TracedSqlConnection<Postgres>, id: i64) -> Result<(), sqlx::Error> {
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
pub struct TracedSqlConnection<DB: TracedDatabase> {
    pub(crate) conn: PoolConnection<DB>,
    pub(crate) shared: Arc<Instrumentation>,
    /// Transactions open through this crate (1: a transaction, 2 and more: savepoints). Our
    /// own count: the drivers' count lags behind a rollback queued by a drop (SQLite).
    pub(crate) depth: usize,
}

impl<DB: TracedDatabase> fmt::Debug for TracedSqlConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedSqlConnection")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

/// A connection checked out of a [`TracedPool`](crate::TracedPool)
/// ([`acquire`](crate::TracedPool::acquire), [`try_acquire`](crate::TracedPool::try_acquire)):
/// derefs to its [`TracedSqlConnection`], so `&mut *conn` (sqlx's idiom) is a traced
/// [`Executor`]. Back to the pool when dropped; its use time is recorded by the pool metrics.
pub struct TracedPoolConnection<DB: TracedDatabase> {
    conn: TracedSqlConnection<DB>,
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
            conn: TracedSqlConnection {
                conn,
                shared,
                depth: 0,
            },
            _use: use_guard,
        }
    }
}

impl<DB: TracedDatabase> Deref for TracedPoolConnection<DB> {
    type Target = TracedSqlConnection<DB>;

    fn deref(&self) -> &TracedSqlConnection<DB> {
        &self.conn
    }
}

impl<DB: TracedDatabase> DerefMut for TracedPoolConnection<DB> {
    fn deref_mut(&mut self) -> &mut TracedSqlConnection<DB> {
        &mut self.conn
    }
}

/// Each statement runs on the connection itself.
impl<DB: TracedDatabase> Target<DB> for &mut TracedSqlConnection<DB>
where
    for<'a> &'a mut DB::Connection: Executor<'a, Database = DB>,
{
    fn instrumentation(&self) -> &Arc<Instrumentation> {
        &self.shared
    }

    fn detection(&self) -> Option<BoxFuture<'static, ()>> {
        // A pool detects the server before it hands out a connection.
        None
    }

    fn fetch_many<'e>(self, parts: QueryParts<DB>) -> BoxStream<'e, Item<DB>>
    where
        Self: 'e,
    {
        (&mut *self.conn).fetch_many(parts)
    }

    fn fetch_optional<'e>(
        self,
        parts: QueryParts<DB>,
    ) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>> + Send + 'e
    where
        Self: 'e,
    {
        (&mut *self.conn).fetch_optional(parts)
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        Self: 'e,
    {
        (&mut *self.conn).prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        Self: 'e,
    {
        (&mut *self.conn).describe(sql)
    }
}

// `&mut TracedSqlConnection<DB>` is a traced `Executor` (so are `&mut *conn` and `&mut *tx`).
traced_executor!('c, &'c mut TracedSqlConnection<DB>, std::convert::identity);

/// sqlx's [`Acquire`], for helpers written against `A: Acquire<'c, Database = DB>` (called
/// with `&mut *conn` or `&mut *tx`). sqlx requires the acquired connection to deref to the
/// **raw** driver connection, so queries a helper sends through it are **not traced** by this
/// crate (the `query-log` feature's layer records them); prefer `impl Executor` or `&mut
/// TracedSqlConnection<DB>` in helpers. [`Acquire::begin`] returns sqlx's untraced
/// `Transaction`.
impl<'c, DB: TracedDatabase> Acquire<'c> for &'c mut TracedSqlConnection<DB> {
    type Database = DB;
    type Connection = &'c mut DB::Connection;

    fn acquire(self) -> BoxFuture<'c, Result<Self::Connection, sqlx::Error>> {
        Box::pin(std::future::ready(Ok(&mut *self.conn)))
    }

    fn begin(self) -> BoxFuture<'c, Result<Transaction<'c, DB>, sqlx::Error>> {
        Transaction::begin(&mut *self.conn, None)
    }
}
