//! OpenTelemetry client spans and the `db.client.operation.duration` metric for the official
//! MongoDB Rust driver, built from its command monitoring events: the Rust form of the
//! go-kratos qmgo tracer and of Go's `otelmongo`, with sanitized query text.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> mongodb::error::Result<()> {
//! use mongodb::options::ClientOptions;
//! use otel_mongo::OtelCommandHandler;
//!
//! let mut options = ClientOptions::default();
//! OtelCommandHandler::new().install(&mut options); // one line
//! let client = mongodb::Client::with_options(options)?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! Each command becomes a span named by its summary (`find orders`, `getMore orders`,
//! `ping`), child of the context current where the operation is awaited, with
//! `db.system.name`, `db.namespace`, `db.collection.name`, `db.operation.name`,
//! `db.query.summary`, sanitized `db.query.text` (values `?`, see the crate's README), `db.operation.batch.size`
//! (multi-statement updates and deletes), `server.address` / `server.port`, and on failure
//! `db.response.status_code`, `error.type` and status `Error` (write errors inside an `ok: 1`
//! reply included). Names come from closed sets or pass the core's name shape check: command
//! names outside the known set are `_OTHER`, and only commands that target a collection take
//! it from their first value. From an error only the code (and its name from a static table)
//! or the driver error kind is recorded; the server's text only under
//! [`ErrorTextMode::Scrubbed`]. The same [`OtelCommandHandler::install`] call feeds the
//! `db.client.connection.*` pool metrics from the driver's connection pool events.
//!
//! Opt-in **operation spans** (the MongoDB drivers' OpenTelemetry specification): one
//! `CLIENT` span per API call, named `find shop.orders`, parent of the command spans of every
//! attempt, covering server selection and connection check-out, and recording calls that fail
//! before anything is sent; a `transaction` span for session transactions. One line per
//! collection, one call at the end of the chain (see [`TraceOperation`]):
//!
//! ```no_run
//! # async fn run(client: mongodb::Client, handler: otel_mongo::OtelCommandHandler) -> mongodb::error::Result<()> {
//! use mongodb::bson::{Document, doc};
//! use otel_mongo::prelude::*;
//!
//! let orders = TracedCollection::new(client.database("shop").collection::<Document>("orders"), &handler);
//! let paid = orders.find(doc! { "status": "paid" }).sort(doc! { "total": -1 }).traced(&orders).await?;
//! # let _ = paid; Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod chain;
mod client;
mod codes;
mod command;
mod details;
mod event;
mod failure;
mod handler;
mod in_flight;
mod intern;
mod operation;
mod options;
mod pool;
mod prepared;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod sanitize;
#[cfg(not(feature = "testing"))]
mod sanitize;
mod scope;
mod session;
mod traced;

pub use event::StartedCommand;
pub use handler::{DB_SYSTEM, OTHER_COMMAND, OtelCommandHandler, REPLY_LOST_ERROR_TYPE};
pub use operation::Operation;
pub use options::{
    BACKGROUND_COMMANDS, BackgroundCommands, DEFAULT_MAX_IN_FLIGHT, DEFAULT_REPLY_TIMEOUT,
    INSTRUMENTATION_NAME, OtelCommandHandlerBuilder,
};
pub use otel_rpc::ErrorTextMode;
pub use otel_rpc::QueryTextMode;
pub use otel_rpc::{DbInstrumentationOptions, InstrumentationOptions};
pub use pool::DEFAULT_ABANDONED_CHECKOUT_AFTER;
pub use session::TracedSession;
pub use traced::{TraceOperation, Traced, TracedClient, TracedCollection, TracedDatabase};

/// Test and benchmark support (feature `testing`): the event values of the handler's direct
/// entry points. Not part of the stable API.
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use event::{CommandKey, FailedCommand, SucceededCommand};
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub use failure::CommandFailure;

/// The names most programs need: `use otel_mongo::prelude::*;`.
pub mod prelude {
    pub use crate::{
        DbInstrumentationOptions, InstrumentationOptions, OtelCommandHandler, TraceOperation,
        TracedClient, TracedCollection, TracedDatabase, TracedSession,
    };
}
