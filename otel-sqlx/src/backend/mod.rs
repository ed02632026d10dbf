//! What differs per database: the SQL dialect, where the connection facts come from, how
//! many rows a result affected and whether the server must be asked what it is.

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::sync::Arc;

use futures_core::future::BoxFuture;
use sqlx::{Connection, Database};

use crate::statement::Dialect;

/// Connection facts recorded on every span, taken from the connect options (never the
/// password or the full URL).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// `db.system.name` before any server detection.
    pub system: &'static str,
    /// `db.namespace`: the database name (SQLite: the file name).
    pub namespace: Option<Arc<str>>,
    /// `server.address`.
    pub address: Option<Arc<str>>,
    /// `server.port`.
    pub port: Option<u16>,
}

/// A database this crate can trace: `sqlx::Postgres`, `sqlx::MySql` and `sqlx::Sqlite`
/// (each behind its feature). Name it to write code generic over them
/// (`fn traced<DB: TracedDatabase>(pool: sqlx::Pool<DB>) -> TracedPool<DB>`).
///
/// Sealed: it is implemented by this crate only, for the databases it knows how to read
/// (dialect, connection facts, row counts, server detection).
pub trait TracedDatabase: Backend {}

impl<DB: Backend> TracedDatabase for DB {}

/// What this crate needs to know of a database: the sealed part of [`TracedDatabase`]
/// (public in this private module, so no one outside can name or implement it).
pub trait Backend: Database {
    /// Dialect of the SQL tokenizer.
    const DIALECT: Dialect;

    /// `true` when `db.system.name` depends on the server (MySQL or MariaDB), which is then
    /// asked once per pool with [`detect_system`](Self::detect_system).
    const DETECTS_SYSTEM: bool = false;

    /// The connection facts of `options`.
    fn connection_info(options: &<Self::Connection as Connection>::Options) -> ConnectionInfo;

    /// Rows affected by one statement's result.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Asks the server which `db.system.name` it is; `None` keeps the configured one.
    fn detect_system(conn: &mut Self::Connection) -> BoxFuture<'_, Option<&'static str>> {
        let _ = conn;
        Box::pin(std::future::ready(None))
    }
}
