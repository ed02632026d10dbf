//! [`TracedConnection`]: a redis-rs connection whose every command and pipeline is traced.

use std::fmt;
use std::sync::Arc;

use redis::{Arg, Cmd};

use crate::select::CurrentDb;
use crate::shared::Shared;

/// A redis-rs connection that records a span (and the `db.client.operation.duration`
/// histogram) for every command and pipeline sent through it.
///
/// It implements `redis::aio::ConnectionLike` for any async connection (feature `aio`, on by
/// default: `MultiplexedConnection`, `ConnectionManager`, ...) and the blocking
/// `redis::ConnectionLike` (feature `sync`), so `redis::AsyncCommands`, `Cmd::query_async`,
/// `Pipeline::query_async` and friends work on it unchanged. It is `Clone` when the inner
/// connection is, and clones share one configuration and the current database.
///
/// `db.namespace` is the client's db index until a `SELECT` goes through the wrapper. On the
/// blocking single-node connection (feature `sync`), which only the wrapper drives, it then
/// follows every `SELECT` the server accepted. On async connections, shared by clones and
/// tasks whose commands interleave in an order the wrapper cannot see (and re-selecting the
/// client's database when `ConnectionManager` reconnects), and on cluster connections, where
/// a `SELECT` reaches a single node, the database is no longer known: from the first `SELECT`
/// on, spans of the connection and of its wrapper's clones carry no `db.namespace`. Configure
/// the database in the client's URL (`redis://host/3`) to keep it recorded.
///
/// ```no_run
/// # async fn demo() -> redis::RedisResult<()> {
/// use redis::AsyncCommands;
///
/// let client = redis::Client::open("redis://127.0.0.1:6379/0")?;
/// let conn = client.get_multiplexed_async_connection().await?;
/// let mut conn = otel_redis::TracedConnection::new(&client, conn);
/// let _: () = conn.set("greeting", "hello").await?; // span `SET`, db.query.text `SET greeting ?`
/// let v: Option<String> = conn.get("greeting").await?; // span `GET`, db.query.text `GET greeting`
/// # let _ = v;
/// # Ok(()) }
/// ```
pub struct TracedConnection<C> {
    pub(crate) inner: C,
    pub(crate) shared: Arc<Shared>,
    /// The database `SELECT` left the underlying connection in.
    pub(crate) db: CurrentDb,
}

impl<C: Clone> Clone for TracedConnection<C> {
    fn clone(&self) -> Self {
        TracedConnection {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            db: self.db.clone(),
        }
    }
}

impl<C> fmt::Debug for TracedConnection<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedConnection")
            .field("config", &self.shared)
            .finish_non_exhaustive()
    }
}

impl<C> TracedConnection<C> {
    pub(crate) fn from_parts(inner: C, shared: Arc<Shared>) -> Self {
        let db = CurrentDb::new(shared.db);
        TracedConnection { inner, shared, db }
    }

    /// Wraps another connection to the same server with this connection's configuration
    /// (no new recorder is built). Its database is the client's, whatever this one selected.
    pub fn with_inner<D>(&self, inner: D) -> TracedConnection<D> {
        TracedConnection::from_parts(inner, Arc::clone(&self.shared))
    }

    /// The wrapped connection (commands sent through it directly are not traced).
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The wrapped connection, mutably (commands sent through it directly are not traced).
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps the connection.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

/// Recorded in raw mode for a cursor argument, whose value redis-rs fills in when it sends.
const CURSOR_PLACEHOLDER: &[u8] = b"?";

/// The arguments of `cmd`, its name first.
pub(crate) fn cmd_args(cmd: &Cmd) -> impl Iterator<Item = &[u8]> + Clone {
    cmd.args_iter().map(|arg| match arg {
        Arg::Simple(bytes) => bytes,
        _ => CURSOR_PLACEHOLDER,
    })
}

#[cfg(feature = "aio")]
mod aio {
    use redis::{Cmd, Pipeline, RedisFuture, Value};

    use super::{TracedConnection, cmd_args};
    use crate::{outcome, select};

    impl<C> redis::aio::ConnectionLike for TracedConnection<C>
    where
        C: redis::aio::ConnectionLike + Send,
    {
        fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
            // The parent is the caller's context now, not whenever the future is first polled.
            let parent = otel_rpc::current_context();
            let recording = self
                .shared
                .start_command(&parent, self.db.get(), cmd_args(cmd));
            if select::is_select(cmd_args(cmd)) {
                self.db.forget();
            }
            let fut = self.inner.req_packed_command(cmd);
            let Some(recording) = recording else {
                return fut;
            };
            let errors = self.shared.error_text;
            Box::pin(async move {
                // Dropping this future before it completes drops `recording`, which ends the
                // span as cancelled.
                let result = recording.in_scope(fut).await;
                recording.end(outcome::command(&result, errors));
                result
            })
        }

        fn req_packed_commands<'a>(
            &'a mut self,
            pipeline: &'a Pipeline,
            offset: usize,
            count: usize,
        ) -> RedisFuture<'a, Vec<Value>> {
            let parent = otel_rpc::current_context();
            let atomic = pipeline.is_transaction();
            let selects = pipeline.cmd_iter().any(|c| select::is_select(cmd_args(c)));
            let recording = self.shared.start_pipeline(
                &parent,
                self.db.for_pipeline(selects),
                atomic,
                pipeline.len(),
                || pipeline.cmd_iter().map(cmd_args),
            );
            if selects {
                self.db.forget();
            }
            let fut = self.inner.req_packed_commands(pipeline, offset, count);
            let Some(recording) = recording else {
                return fut;
            };
            let errors = self.shared.error_text;
            Box::pin(async move {
                let result = recording.in_scope(fut).await;
                outcome::end_pipeline(recording, &result, atomic, errors);
                result
            })
        }

        fn get_db(&self) -> i64 {
            self.inner.get_db()
        }
    }
}
