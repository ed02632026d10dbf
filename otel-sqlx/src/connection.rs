//! [`TracedConnection`]: a pooled connection whose queries are traced.

use std::fmt;
use std::sync::Arc;

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use otel_rpc::current_context;
use otel_rpc::pool::ConnectionUse;
use sqlx::pool::PoolConnection;
use sqlx::{Execute, Executor, SqlStr};

use crate::backend::TracedDatabase;
use crate::instrumentation::Instrumentation;
use crate::parts::QueryParts;
use crate::pool::begin_on;
use crate::stream::{TracedStream, traced_optional};
use crate::transaction::TracedTransaction;

/// A connection from [`TracedPool::acquire`](crate::TracedPool::acquire). `&mut
/// TracedConnection<DB>` is an [`Executor`]; there is deliberately no `Deref` to the raw
/// connection, so no query can bypass tracing. Returned to the pool when dropped.
pub struct TracedConnection<DB: TracedDatabase> {
    conn: PoolConnection<DB>,
    shared: Arc<Instrumentation>,
    /// Records `db.client.connection.use_time` when dropped, after `conn` (field order).
    _use: Option<ConnectionUse>,
}

impl<DB: TracedDatabase> fmt::Debug for TracedConnection<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnection")
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl<DB: TracedDatabase> TracedConnection<DB> {
    pub(crate) fn new(
        conn: PoolConnection<DB>,
        shared: Arc<Instrumentation>,
        use_guard: Option<ConnectionUse>,
    ) -> Self {
        TracedConnection {
            conn,
            shared,
            _use: use_guard,
        }
    }

    /// Begins a transaction on this connection; records a `BEGIN` span.
    pub async fn begin(&mut self) -> Result<TracedTransaction<'_, DB>, sqlx::Error> {
        let parent = current_context();
        let recording = self.shared.start_control(&parent, "BEGIN");
        let result = begin_on::<DB>(&mut self.conn).await;
        self.shared.end_control(recording, &result);
        let shared = Arc::clone(&self.shared);
        result.map(|tx| TracedTransaction::new(tx, shared, 1))
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
