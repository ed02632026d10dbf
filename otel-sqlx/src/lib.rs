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
mod executor;
mod instrumentation;
mod options;
mod parts;
mod pool;
#[cfg(feature = "query-log")]
mod query_log;
mod quiet;
mod statement;
mod stream;
mod transaction;

// The whole public API.
pub use backend::TracedDatabase;
pub use commenter::SqlCommenter;
pub use connection::{TracedPoolConnection, TracedSqlConnection};
pub use error::ERROR_KINDS;
pub use instrumentation::{DB_RESPONSE_AFFECTED_ROWS, DB_TRANSACTION_DROPPED, SCOPE};
pub use pool::{TracedPool, TracedPoolBuilder};
#[cfg(feature = "query-log")]
pub use query_log::{QueryLogLayer, QueryLogLayerBuilder};
pub use transaction::TracedTransaction;

/// Re-exported: the database option words of the builders (`filter`, `span_name`,
/// `require_parent`), typed on [`otel_rpc::DbOperation`].
pub use otel_rpc::DbInstrumentationOptions;
/// Re-exported: the modes of [`InstrumentationOptions::error_text`].
pub use otel_rpc::ErrorTextMode;
/// Re-exported: the shared option words of the builders (providers, `query_text`,
/// `error_text`, `classify`, `enabled`, ...), the same in every crate of this workspace.
pub use otel_rpc::InstrumentationOptions;
/// Re-exported: the modes of [`InstrumentationOptions::query_text`].
pub use otel_rpc::QueryTextMode;

pub mod sql {
    //! The SQL sanitizer and analyzer every span of this crate is built with, for your own use:
    //! sanitize the statements your application logs ([`sanitize`]: literals to `?`) or name
    //! them as the spans do ([`analyze`]: `db.query.summary`, operation, table, stored
    //! procedure, statement count). No connection, no pool, no telemetry.
    //!
    //! ```
    //! use otel_sqlx::sql::{Dialect, analyze, sanitize};
    //!
    //! let sql = "SELECT * FROM users WHERE email = 'a@b.c' AND age > 30";
    //! let text = sanitize(sql, Dialect::Postgres, 2048);
    //! assert_eq!(text, "SELECT * FROM users WHERE email = ? AND age > ?");
    //! assert_eq!(analyze(sql, Dialect::Postgres).summary.as_deref(), Some("SELECT users"));
    //! ```
    //!
    //! Both read one token stream, so a token is a literal for both or for neither: string and
    //! number literals (signs folded in), both readings of a backslash when the session's
    //! [`Backslashes`] rule is unknown (give it with [`SqlMode`] and the `_with` functions when
    //! you know it), unterminated quotes (the rest of the text is one literal), SQLite
    //! double-quoted tokens where a value can stand, and the token after `PASSWORD`,
    //! `IDENTIFIED BY` and the like. Names (tables, procedures) pass a shape check
    //! ([`MAX_NAME_LEN`] bytes, no whitespace, quotes or control characters) or are omitted.
    //! Both stream: memory use does not grow with the statement (the sanitizer's output aside,
    //! which is cut at the caller's limit).

    pub use crate::statement::{
        Analysis, Backslashes, Dialect, MAX_NAME_LEN, MAX_SUMMARY_LEN, SqlMode, analyze,
        analyze_with, sanitize, sanitize_with,
    };
}

/// `use otel_sqlx::prelude::*;`: the traced types and the option traits (as `_`: their
/// methods, not their names).
pub mod prelude {
    pub use crate::{
        DbInstrumentationOptions as _, InstrumentationOptions as _, TracedDatabase, TracedPool,
        TracedPoolConnection, TracedSqlConnection, TracedTransaction,
    };
}

/// Test and bench support (feature `testing`, as `opentelemetry_sdk`'s): not part of the
/// stable API.
#[cfg(feature = "testing")]
pub mod testing {
    pub use crate::statement::QueryCache;
}
