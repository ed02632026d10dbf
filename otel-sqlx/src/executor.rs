//! The one traced `sqlx::Executor` body: [`traced_executor!`] writes the `Executor` impl of
//! `&TracedPool` and `&mut TracedSqlConnection` (a transaction derefs to the latter), and
//! [`fetch_many`] / [`fetch_optional`] are what every statement goes through: take the query
//! apart, start its span (after the server detection a pool may still owe), comment it, run it
//! on the [`Target`] and count its rows into the span.
//!
//! What differs between the pool and a connection is only where the statement runs and
//! whether a detection is due; that is the [`Target`] trait, implemented beside each type.

use std::sync::Arc;

use either::Either;
use futures_core::future::BoxFuture;
use futures_core::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use opentelemetry::Context;
use otel_rpc::current_context;
use sqlx::{Execute, SqlStr};

use crate::backend::TracedDatabase;
use crate::instrumentation::{Instrumentation, QuerySpan};
use crate::parts::Item;
use crate::parts::QueryParts;
use crate::stream::{TracedOptional, TracedStream};

/// Where a traced statement runs: a connection the caller holds, or one the pool checks out
/// for the statement. `Self: 'e` ties what the statement borrows to the caller's lifetime.
pub(crate) trait Target<DB: TracedDatabase>: Send + Sized {
    /// The instrumentation of the pool the target belongs to.
    fn instrumentation(&self) -> &Arc<Instrumentation>;

    /// The step due before the first span of a pool can start (asking a MySQL server once
    /// whether it is MariaDB: the span's `db.system.name` depends on it), when still due.
    fn detection(&self) -> Option<BoxFuture<'static, ()>>;

    /// Runs `fetch_many` of `parts`.
    fn fetch_many<'e>(self, parts: QueryParts<DB>) -> BoxStream<'e, Item<DB>>
    where
        Self: 'e;

    /// Runs `fetch_optional` of `parts`.
    fn fetch_optional<'e>(
        self,
        parts: QueryParts<DB>,
    ) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>> + Send + 'e
    where
        Self: 'e;

    /// `prepare_with`, untraced.
    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
    where
        Self: 'e;

    /// `describe`, untraced.
    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
    where
        Self: 'e;
}

/// A statement ready to run: its target, its parts (commented) and its span.
type Ready<DB, T> = (T, QueryParts<DB>, Option<QuerySpan>);

/// Takes `query` apart under the caller's context (now) and starts its span: at once
/// (`Left`), or after the detection the target still owes (`Right`, a future).
fn start<'e, 'q: 'e, DB, T, E>(
    target: T,
    query: E,
) -> Either<Ready<DB, T>, impl Future<Output = Ready<DB, T>> + Send + 'e>
where
    DB: TracedDatabase,
    T: Target<DB> + 'e,
    E: 'q + Execute<'q, DB>,
{
    let parent = current_context();
    let parts = QueryParts::<DB>::new(query);
    match target.detection() {
        None => Either::Left(ready(target, &parent, parts)),
        Some(detect) => Either::Right(async move {
            detect.await;
            ready(target, &parent, parts)
        }),
    }
}

/// Starts the span of `parts` under `parent` and appends its sqlcommenter comment, if any.
fn ready<DB: TracedDatabase, T: Target<DB>>(
    target: T,
    parent: &Context,
    parts: QueryParts<DB>,
) -> Ready<DB, T> {
    let mut span = target
        .instrumentation()
        .start_query(parent, parts.sql.as_str());
    let parts = parts.commented(span.as_mut().and_then(|s| s.comment.take()));
    (target, parts, span)
}

/// `Executor::fetch_many` on `target`, traced.
pub(crate) fn fetch_many<'e, 'q: 'e, DB, T, E>(target: T, query: E) -> BoxStream<'e, Item<DB>>
where
    DB: TracedDatabase,
    T: Target<DB> + 'e,
    E: 'q + Execute<'q, DB>,
{
    match start(target, query) {
        Either::Left((target, parts, span)) => {
            TracedStream::<DB>::running(target.fetch_many(parts), span).boxed()
        }
        Either::Right(later) => TracedStream::<DB>::starting(Box::pin(async move {
            let (target, parts, span) = later.await;
            (target.fetch_many(parts), span)
        }))
        .boxed(),
    }
}

/// `Executor::fetch_optional` on `target`, traced.
pub(crate) fn fetch_optional<'e, 'q: 'e, DB, T, E>(
    target: T,
    query: E,
) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
where
    DB: TracedDatabase,
    T: Target<DB> + 'e,
    E: 'q + Execute<'q, DB>,
{
    match start(target, query) {
        Either::Left((target, parts, span)) => {
            TracedOptional::new(span, target.fetch_optional(parts)).boxed()
        }
        Either::Right(later) => Box::pin(async move {
            let (target, parts, span) = later.await;
            TracedOptional::new(span, target.fetch_optional(parts)).await
        }),
    }
}

/// Writes the traced `sqlx::Executor` impl of `$self_ty` (generic over `DB`, the executor's
/// lifetime `$lt`), turning `self` into its [`Target`] with `$target`.
macro_rules! traced_executor {
    ($lt:lifetime, $self_ty:ty, $target:expr) => {
        impl<$lt, DB: $crate::backend::TracedDatabase> sqlx::Executor<$lt> for $self_ty
        where
            for<'a> &'a mut DB::Connection: sqlx::Executor<'a, Database = DB>,
        {
            type Database = DB;

            fn fetch_many<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> futures_core::stream::BoxStream<
                'e,
                Result<either::Either<DB::QueryResult, DB::Row>, sqlx::Error>,
            >
            where
                $lt: 'e,
                E: 'q + sqlx::Execute<'q, DB>,
            {
                $crate::executor::fetch_many(($target)(self), query)
            }

            fn fetch_optional<'e, 'q: 'e, E>(
                self,
                query: E,
            ) -> futures_core::future::BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
            where
                $lt: 'e,
                E: 'q + sqlx::Execute<'q, DB>,
            {
                $crate::executor::fetch_optional(($target)(self), query)
            }

            fn prepare_with<'e>(
                self,
                sql: sqlx::SqlStr,
                parameters: &'e [DB::TypeInfo],
            ) -> futures_core::future::BoxFuture<'e, Result<DB::Statement, sqlx::Error>>
            where
                $lt: 'e,
            {
                $crate::executor::Target::prepare_with(($target)(self), sql, parameters)
            }

            fn describe<'e>(
                self,
                sql: sqlx::SqlStr,
            ) -> futures_core::future::BoxFuture<'e, Result<sqlx::Describe<DB>, sqlx::Error>>
            where
                $lt: 'e,
            {
                $crate::executor::Target::describe(($target)(self), sql)
            }
        }
    };
}
pub(crate) use traced_executor;
