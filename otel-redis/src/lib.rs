//! OpenTelemetry tracing for [redis-rs](https://docs.rs/redis): wrap a connection once and
//! every command, pipeline and `MULTI`/`EXEC` transaction sent through it gets a client span
//! following the database semantic conventions, plus the `db.client.operation.duration`
//! histogram. Argument values are never recorded: `db.query.text` keeps command names and keys
//! and turns every value into `?` (`SET user:1 ?`, `HSET user:1 ? ?`, `EVAL ? 1 key ?`), and
//! authentication commands (`AUTH`, `HELLO .. AUTH`, `CONFIG SET`, `ACL SETUSER`,
//! `MIGRATE .. AUTH`) are recorded by name only, in every mode.
//!
//! ```no_run
//! # async fn demo() -> redis::RedisResult<()> {
//! use redis::AsyncCommands;
//! use otel_redis::TracedConnection;
//!
//! let client = redis::Client::open("redis://127.0.0.1:6379/0")?;
//! let mut conn = TracedConnection::new(&client, client.get_multiplexed_async_connection().await?);
//!
//! let _: () = conn.set("user:1", "alice").await?;     // span "SET": db.query.text "SET user:1 ?"
//! let name: Option<String> = conn.get("user:1").await?; // span "GET": db.query.text "GET user:1"
//!
//! let (a, b): (i64, i64) = redis::pipe()
//!     .atomic()
//!     .incr("hits", 1)
//!     .incr("visits", 1)
//!     .query_async(&mut conn)
//!     .await?; // span "MULTI INCRBY": db.operation.name "MULTI", db.operation.batch.size 2
//! # let _ = (name, a, b);
//! # Ok(()) }
//! ```
//!
//! Spans:
//!
//! | attribute | value |
//! |---|---|
//! | span name | the command (`GET`, `CONFIG GET`, `_OTHER` for one the command table does not know), or the pipeline summary |
//! | `db.system.name` | `redis` |
//! | `db.operation.name` | the command; `PIPELINE`, or `MULTI` for an atomic pipeline |
//! | `db.query.summary` | the command; `PIPELINE` / `MULTI`, or `PIPELINE GET` when every command of the batch is `GET` |
//! | `db.query.text` | sanitized commands (pipelines joined with `; `), capped at 2 KiB |
//! | `db.namespace` | the db index, `"0"`; after a `SELECT`, see [`TracedConnection`] |
//! | `db.operation.batch.size` | number of commands of a pipeline (2 or more) |
//! | `server.address`, `server.port` | from the client's connection info (none on cluster connections, `TracedConnection::cluster_builder`, feature `cluster`) |
//! | `db.response.status_code`, `error.type` | the error prefix when Redis defines it ([`ERROR_PREFIXES`]: `WRONGTYPE`, `ERR`, `EXECABORT`), else `_OTHER`; for errors that never reached the server, the error kind (`io`, `timeout`) |
//! | [`PIPELINE_FAILED_COMMANDS`] | how many commands of a pipeline failed |
//!
//! A nil reply is not an error. No other text of an error reply is recorded, unless opted in
//! with [`InstrumentationOptions::error_text`] (scrubbed). Options use the shared vocabulary of
//! `otel-rpc` ([`InstrumentationOptions`], [`DbInstrumentationOptions`]);
//! `OTEL_INSTRUMENTATION_REDIS_ENABLED=false` makes every connection a pass-through. The
//! parent of each span is [`otel_rpc::current_context`] at the moment the command is issued;
//! the inner connection runs with the command's span as the current context. A command whose
//! future is dropped before it completes ends its span as cancelled.
//!
//! Unsampled operations pay for no query text: it is built only when the span records (the
//! `unsampled` test counts the texts built).
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without `aio` nor `sync` there is no connection trait to implement: nothing is used.
#![cfg_attr(not(any(feature = "aio", feature = "sync")), allow(dead_code))]

mod builder;
mod command;
mod commands;
mod connection;
mod operation;
mod outcome;
#[cfg(feature = "sync")]
mod packed;
mod sanitize;
mod select;
mod shared;
mod stats;
#[cfg(feature = "sync")]
mod sync;

// The whole public API.
pub use builder::{SCOPE, TracedConnectionBuilder};
pub use connection::TracedConnection;
pub use operation::{PIPELINE_OPERATION, TRANSACTION_OPERATION};
pub use outcome::{ERROR_PREFIXES, PIPELINE_FAILED_COMMANDS};

/// Re-exported: the database hooks of the builder (`filter`, `span_name`), typed on
/// [`otel_rpc::DbOperation`].
pub use otel_rpc::DbInstrumentationOptions;
/// Re-exported: the error text modes of [`InstrumentationOptions::error_text`].
pub use otel_rpc::ErrorTextMode;
/// Re-exported: the shared option vocabulary of the builder (providers, `query_text`,
/// `error_text`, `classify`, `recorder`, `enabled`, ...).
pub use otel_rpc::InstrumentationOptions;
/// Re-exported: the query text modes of [`InstrumentationOptions::query_text`].
pub use otel_rpc::QueryTextMode;

/// `use otel_redis::prelude::*;`: the traced connection and the option traits (as `_`: their
/// methods, not their names).
pub mod prelude {
    pub use crate::{DbInstrumentationOptions as _, InstrumentationOptions as _, TracedConnection};
}

/// Test and bench support (feature `testing`, as `opentelemetry_sdk`'s): not part of the
/// stable API.
#[cfg(feature = "testing")]
pub mod testing {
    pub use crate::stats::query_texts_built;
}
