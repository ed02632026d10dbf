//! [`TracedTransaction`]: a transaction (or savepoint) whose queries and end are traced.

use std::fmt;
use std::sync::Arc;

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use opentelemetry::KeyValue;
use otel_rpc::{Outcome, current_context};
use sqlx::{Execute, Executor, SqlStr, Transaction};

use crate::backend::TracedDatabase;
use crate::instrumentation::{DB_TRANSACTION_DROPPED, Instrumentation};
use crate::parts::QueryParts;
use crate::pool::begin_on;
use crate::stream::{TracedStream, traced_optional};

/// A transaction from [`TracedPool::begin`](crate::TracedPool::begin),
/// [`TracedConnection::begin`](crate::TracedConnection::begin) or, nested as a savepoint,
/// [`TracedTransaction::begin`].
///
/// `&mut TracedTransaction` is an [`Executor`]: queries inside are children of the caller's
/// current span (not of a transaction span). The transaction statements are spans of their
/// own, named by their operation:
///
/// | call | outermost | nested (savepoint) |
/// |---|---|---|
/// | begin | `BEGIN` | `SAVEPOINT` |
/// | [`commit`](Self::commit) | `COMMIT` | `RELEASE SAVEPOINT` |
/// | [`rollback`](Self::rollback) | `ROLLBACK` | `ROLLBACK TO SAVEPOINT` |
///
/// Dropped without `commit` or `rollback`, sqlx rolls it back (queued for the connection's
/// next use); a `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`) span is recorded at the drop with
/// [`DB_TRANSACTION_DROPPED`](crate::DB_TRANSACTION_DROPPED) `= true`.
pub struct TracedTransaction<'c, DB: TracedDatabase> {
    tx: Option<Transaction<'c, DB>>,
    shared: Arc<Instrumentation>,
    depth: usize,
    /// A transaction begun on the pool: records `db.client.connection.use_time` when dropped,
    /// after `tx` (field order) has given the connection back.
    _use: Option<otel_rpc::pool::ConnectionUse>,
}

impl<DB: TracedDatabase> fmt::Debug for TracedTransaction<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedTransaction")
            .field("tx", &self.tx)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

fn names(depth: usize) -> (&'static str, &'static str, &'static str) {
    if depth <= 1 {
        ("BEGIN", "COMMIT", "ROLLBACK")
    } else {
        ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    }
}

impl<'c, DB: TracedDatabase> TracedTransaction<'c, DB> {
    pub(crate) fn new(tx: Transaction<'c, DB>, shared: Arc<Instrumentation>, depth: usize) -> Self {
        TracedTransaction {
            tx: Some(tx),
            shared,
            depth,
            _use: None,
        }
    }

    /// Keeps the pool checkout's use guard for as long as the transaction lives.
    pub(crate) fn with_use(mut self, use_guard: Option<otel_rpc::pool::ConnectionUse>) -> Self {
        self._use = use_guard;
        self
    }

    /// Nesting depth: 1 for a transaction, 2 and more for savepoints.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Opens a savepoint inside this transaction; records a `SAVEPOINT` span.
    pub async fn begin(&mut self) -> Result<TracedTransaction<'_, DB>, sqlx::Error> {
        let depth = self.depth + 1;
        let parent = current_context();
        let recording = self.shared.start_control(&parent, names(depth).0);
        let Some(tx) = self.tx.as_mut() else {
            let err = sqlx::Error::WorkerCrashed;
            self.shared
                .end_control::<()>(recording, &Err(sqlx::Error::WorkerCrashed));
            return Err(err);
        };
        let result = begin_on::<DB>(&mut **tx).await;
        self.shared.end_control(recording, &result);
        let shared = Arc::clone(&self.shared);
        result.map(|tx| TracedTransaction::new(tx, shared, depth))
    }

    /// Commits; records a `COMMIT` (or `RELEASE SAVEPOINT`) span.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let name = names(self.depth).1;
        self.finish(name, Transaction::commit).await
    }

    /// Rolls back; records a `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`) span.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        let name = names(self.depth).2;
        self.finish(name, Transaction::rollback).await
    }

    /// Ends the transaction with `end` (sqlx's commit or rollback) inside a span named `name`.
    async fn finish<F>(
        mut self,
        name: &'static str,
        end: impl FnOnce(Transaction<'c, DB>) -> F,
    ) -> Result<(), sqlx::Error>
    where
        F: std::future::Future<Output = Result<(), sqlx::Error>>,
    {
        let recording = self.shared.start_control(&current_context(), name);
        let result = match self.tx.take() {
            Some(tx) => end(tx).await,
            None => Ok(()),
        };
        self.shared.end_control(recording, &result);
        result
    }

    fn conn(&mut self) -> Result<&mut DB::Connection, sqlx::Error> {
        // `tx` is only `None` after commit/rollback, which consume `self`.
        self.tx.as_deref_mut().ok_or(sqlx::Error::WorkerCrashed)
    }
}

impl<DB: TracedDatabase> Drop for TracedTransaction<'_, DB> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let recording = self
                .shared
                .start_control(&current_context(), names(self.depth).2);
            recording.set_attribute(KeyValue::new(DB_TRANSACTION_DROPPED, true));
            // sqlx's own Drop queues the rollback.
            drop(tx);
            recording.end(Outcome::Success);
        }
    }
}

impl<'t, DB: TracedDatabase> Executor<'t> for &'t mut TracedTransaction<'_, DB>
where
    for<'a> &'a mut DB::Connection: Executor<'a, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        't: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let parts = QueryParts::<DB>::new(query);
        let mut span = self
            .shared
            .start_query(&current_context(), parts.sql.as_str());
        let parts = parts.commented(&mut span);
        match self.conn() {
            Ok(conn) => TracedStream::<DB>::running(conn.fetch_many(parts), span).boxed(),
            Err(e) => TracedStream::<DB>::running(
                futures_util::stream::once(async move { Err(e) }).boxed(),
                span,
            )
            .boxed(),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        't: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let parts = QueryParts::<DB>::new(query);
        let mut span = self
            .shared
            .start_query(&current_context(), parts.sql.as_str());
        let parts = parts.commented(&mut span);
        match self.conn() {
            Ok(conn) => traced_optional(span, conn.fetch_optional(parts)).boxed(),
            Err(e) => traced_optional(span, async move { Err(e) }).boxed(),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        't: 'e,
    {
        match self.conn() {
            Ok(conn) => conn.prepare_with(sql, parameters),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        't: 'e,
    {
        match self.conn() {
            Ok(conn) => conn.describe(sql),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}
