//! OpenTelemetry spans and `db.client.operation.duration` metrics for [sqlx] 0.9 on
//! PostgreSQL, MySQL/MariaDB and SQLite, without touching query code.
//!
//! Wrap the pool once; every `sqlx::query(..)`, `query_as`, `query_scalar` and `query!` call
//! through it, its connections and its transactions becomes a CLIENT span named by the
//! statement's summary (`SELECT users`, `INSERT orders SELECT cart`) with
//! `db.system.name`, `db.namespace`, `db.query.summary`, sanitized `db.query.text` (literals
//! replaced by `?`), `server.address`/`server.port`, `db.operation.batch.size` for
//! multi-statement text, `db.stored_procedure.name` for `CALL`, and on failure
//! `db.response.status_code` and `error.type` (the SQLSTATE, or the SQLite extended result
//! code), status Error with a fixed description: no server message text unless opted in with
//! `error_text(ErrorTextMode::Scrubbed)`. `db.operation.name` / `db.collection.name` are not
//! parsed from the text unless `parse_operation_and_collection(true)`. Each pool also records
//! the `db.client.connection.*` metrics.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sqlx::Error> {
//! use otel_sqlx::TracedPool;
//!
//! let pool = TracedPool::new(sqlx::PgPool::connect("postgres://localhost/shop").await?);
//! let rows = sqlx::query("SELECT id FROM users WHERE email = $1")
//!     .bind("a@b.c")
//!     .fetch_all(&pool)
//!     .await?;
//! let mut tx = pool.begin().await?;
//! sqlx::query("UPDATE users SET seen = now()").execute(&mut *tx).await?;
//! tx.commit().await?;
//! # let _ = rows; Ok(()) }
//! ```
//!
//! Parents come from [`otel_rpc::current_context`] at the moment the query is issued. The SQL
//! analysis (operation, table, summary) is cached per pool; the sanitized text is built only
//! for sampled spans. Bound parameters are never recorded.
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod checkout;
mod commenter;
mod connection;
mod error;
mod instrumentation;
mod options;
mod parts;
mod pool;
#[cfg(feature = "query-log")]
mod query_log;
mod quiet;
pub mod sql;
mod stream;
mod transaction;

pub use backend::{ConnectionInfo, TracedDatabase};
pub use commenter::SqlCommenter;
pub use connection::{TracedConnection, TracedPoolConnection};
pub use error::{ERROR_KINDS, error_kind};
pub use instrumentation::{DB_RESPONSE_AFFECTED_ROWS, DB_TRANSACTION_DROPPED};
pub use options::TracingOptions;
pub use otel_rpc::ErrorTextMode;
pub use otel_rpc::QueryTextMode;
pub use otel_rpc::{DbInstrumentationOptions, InstrumentationOptions};
pub use pool::{SCOPE, TracedPool, TracedPoolBuilder};
#[cfg(feature = "query-log")]
pub use query_log::{QueryLogLayer, QueryLogLayerBuilder};
pub use transaction::TracedTransaction;
