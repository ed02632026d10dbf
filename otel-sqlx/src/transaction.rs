//! [`TracedTransaction`]: a transaction (or savepoint) whose statements and end are traced.
//!
//! It drives the driver's own `TransactionManager` (as sqlx's `Transaction` does) on a
//! [`TracedSqlConnection`] it owns (begun on the pool) or borrows (begun on a connection or, as a
//! savepoint, on another transaction), so that it can deref to that traced connection.

use std::fmt;
use std::ops::{Deref, DerefMut};

use opentelemetry::KeyValue;
use otel_rpc::{Outcome, Recording, current_context};
use sqlx::{SqlSafeStr, SqlStr};
use sqlx_core::transaction::TransactionManager;

use crate::backend::TracedDatabase;
use crate::connection::{TracedPoolConnection, TracedSqlConnection};
use crate::instrumentation::DB_TRANSACTION_DROPPED;
use crate::quiet::quiet;

/// A transaction from [`TracedPool::begin`](crate::TracedPool::begin) (and `try_begin`,
/// `begin_with`, `try_begin_with`) or [`TracedSqlConnection::begin`] (and `begin_with`); calling
/// `begin` on a transaction opens a savepoint.
///
/// It derefs to the [`TracedSqlConnection`] it runs on, so sqlx's `&mut *tx` is a traced
/// [`Executor`](sqlx::Executor). Queries inside are children of the caller's current span
/// (not of a transaction span). The transaction statements are spans of their own, named by
/// their operation:
///
/// | call | outermost | nested (savepoint) |
/// |---|---|---|
/// | begin | `BEGIN` | `SAVEPOINT` |
/// | [`commit`](Self::commit) | `COMMIT` | `RELEASE SAVEPOINT` |
/// | [`rollback`](Self::rollback) | `ROLLBACK` | `ROLLBACK TO SAVEPOINT` |
///
/// Dropped without `commit` or `rollback`, it is rolled back as sqlx does (queued for the
/// connection's next use); a `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`) span is recorded at the
/// drop with [`DB_TRANSACTION_DROPPED`](crate::DB_TRANSACTION_DROPPED) `= true`.
pub struct TracedTransaction<'c, DB: TracedDatabase> {
    conn: Slot<'c, DB>,
    depth: usize,
    open: bool,
}

enum Slot<'c, DB: TracedDatabase> {
    Pooled(TracedPoolConnection<DB>),
    Borrowed(&'c mut TracedSqlConnection<DB>),
}

impl<DB: TracedDatabase> fmt::Debug for TracedTransaction<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedTransaction")
            .field("conn", &**self)
            .field("depth", &self.depth())
            .field("open", &self.open)
            .finish()
    }
}

/// The span names of begin, commit and rollback at `depth` (1: the transaction itself).
fn names(depth: usize) -> (&'static str, &'static str, &'static str) {
    if depth <= 1 {
        ("BEGIN", "COMMIT", "ROLLBACK")
    } else {
        ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    }
}

/// Transactions on a connection (here, beside the transaction they begin).
impl<DB: TracedDatabase> TracedSqlConnection<DB> {
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

impl<'c, DB: TracedDatabase> TracedTransaction<'c, DB> {
    /// Begins on a borrowed connection (a transaction, or a savepoint when one is open).
    async fn begin_on(
        conn: &'c mut TracedSqlConnection<DB>,
        statement: Option<SqlStr>,
    ) -> Result<Self, sqlx::Error> {
        let name = names(conn.depth + 1).0;
        let recording = conn.shared.start_control(&current_context(), name);
        let depth = begin_in(conn, statement, recording).await?;
        Ok(TracedTransaction {
            conn: Slot::Borrowed(conn),
            depth,
            open: true,
        })
    }

    /// Nesting depth: 1 for a transaction, 2 and more for savepoints.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Commits; records a `COMMIT` (or `RELEASE SAVEPOINT`) span.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let name = names(self.depth()).1;
        let conn = self.conn.get();
        let recording = conn.shared.start_control(&current_context(), name);
        let result = quiet(DB::TransactionManager::commit(&mut conn.conn)).await;
        conn.shared.end_control(recording, &result);
        if result.is_ok() {
            // As sqlx: after a failed commit or rollback, the drop still queues a rollback.
            self.close();
        }
        result
    }

    /// Rolls back; records a `ROLLBACK` (or `ROLLBACK TO SAVEPOINT`) span.
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let name = names(self.depth()).2;
        let conn = self.conn.get();
        let recording = conn.shared.start_control(&current_context(), name);
        let result = quiet(DB::TransactionManager::rollback(&mut conn.conn)).await;
        conn.shared.end_control(recording, &result);
        if result.is_ok() {
            // As sqlx: after a failed commit or rollback, the drop still queues a rollback.
            self.close();
        }
        result
    }
}

impl<DB: TracedDatabase> TracedTransaction<'_, DB> {
    /// Marks this level ended (committed, rolled back or its rollback queued).
    fn close(&mut self) {
        self.open = false;
        let conn = self.conn.get();
        conn.depth = conn.depth.saturating_sub(1);
    }
}

impl<DB: TracedDatabase> TracedTransaction<'static, DB> {
    /// Begins on a connection checked out of the pool, which the transaction then owns;
    /// `recording` is its `BEGIN` span, started by the caller before the checkout.
    pub(crate) async fn begin_pooled(
        mut conn: TracedPoolConnection<DB>,
        statement: Option<SqlStr>,
        recording: Recording,
    ) -> Result<Self, sqlx::Error> {
        let depth = begin_in(&mut conn, statement, recording).await?;
        Ok(TracedTransaction {
            conn: Slot::Pooled(conn),
            depth,
            open: true,
        })
    }
}

/// `BEGIN` (or `SAVEPOINT`, or `statement`) on `conn`, ending its span `recording`; the new
/// depth.
async fn begin_in<DB: TracedDatabase>(
    conn: &mut TracedSqlConnection<DB>,
    statement: Option<SqlStr>,
    recording: Recording,
) -> Result<usize, sqlx::Error> {
    let result = quiet(DB::TransactionManager::begin(&mut conn.conn, statement)).await;
    conn.shared.end_control(recording, &result);
    result?;
    conn.depth += 1;
    Ok(conn.depth)
}

impl<DB: TracedDatabase> Slot<'_, DB> {
    fn get(&mut self) -> &mut TracedSqlConnection<DB> {
        match self {
            Slot::Pooled(conn) => conn,
            Slot::Borrowed(conn) => conn,
        }
    }
}

impl<DB: TracedDatabase> Deref for TracedTransaction<'_, DB> {
    type Target = TracedSqlConnection<DB>;

    fn deref(&self) -> &TracedSqlConnection<DB> {
        match &self.conn {
            Slot::Pooled(conn) => conn,
            Slot::Borrowed(conn) => conn,
        }
    }
}

impl<DB: TracedDatabase> DerefMut for TracedTransaction<'_, DB> {
    fn deref_mut(&mut self) -> &mut TracedSqlConnection<DB> {
        self.conn.get()
    }
}

impl<DB: TracedDatabase> Drop for TracedTransaction<'_, DB> {
    fn drop(&mut self) {
        if self.open {
            let name = names(self.depth()).2;
            let conn = self.conn.get();
            let recording = conn.shared.start_control(&current_context(), name);
            recording.set_attribute(KeyValue::new(DB_TRANSACTION_DROPPED, true));
            // As sqlx's own Drop: the rollback is queued for the connection's next use.
            DB::TransactionManager::start_rollback(&mut conn.conn);
            recording.end(Outcome::Success);
            self.close();
        }
    }
}
