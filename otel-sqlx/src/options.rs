//! [`TracingOptions`]: what the traced pool records (the sqlx-specific part; the shared words
//! live in `otel_rpc`'s `InstrumentationOptions`).

use std::fmt;

use otel_rpc::ErrorTextMode;
use otel_rpc::QueryTextMode;
use otel_rpc::text::DEFAULT_MAX_QUERY_TEXT_LEN;

use crate::commenter::SqlCommenter;
use crate::statement::DEFAULT_CACHE_CAPACITY;

/// What a traced pool (or the query-log layer) records, as built by the builders' methods.
#[derive(Clone)]
pub(crate) struct TracingOptions {
    /// `db.query.text` capture: sanitized (default), off, or raw (unsafe).
    pub query_text: QueryTextMode,
    /// Cap on `db.query.text`, in bytes (default 2 KiB).
    pub max_query_text_len: usize,
    /// Server and driver error text: off (default, a code and a fixed description only) or
    /// scrubbed (opt-in, unsafe-ish: see [`ErrorTextMode::Scrubbed`]).
    pub error_text: ErrorTextMode,
    /// Record `db.response.returned_rows` and [`DB_RESPONSE_AFFECTED_ROWS`](crate::DB_RESPONSE_AFFECTED_ROWS)
    /// (opt-in, like the semantic conventions say; default off).
    pub record_row_counts: bool,
    /// Also record `db.operation.name` and `db.collection.name` parsed out of the query text
    /// (default off: the SQL conventions say they SHOULD NOT be parsed from the text; the
    /// `db.query.summary` carries that information).
    pub parse_operation_and_collection: bool,
    /// Record the `db.client.connection.*` pool metrics (default on, off with
    /// `disable_metrics`).
    pub pool_metrics: bool,
    /// `db.client.connection.pool.name`; `None`: `server.address:server.port/db.namespace`.
    pub pool_name: Option<String>,
    /// Distinct SQL strings whose analysis is cached per pool.
    pub cache_capacity: usize,
    /// The opt-in sqlcommenter comment on sampled statements (default `None`).
    pub sqlcommenter: Option<SqlCommenter>,
}

impl Default for TracingOptions {
    fn default() -> Self {
        TracingOptions {
            query_text: QueryTextMode::Sanitized,
            max_query_text_len: DEFAULT_MAX_QUERY_TEXT_LEN,
            error_text: ErrorTextMode::Off,
            record_row_counts: false,
            parse_operation_and_collection: false,
            pool_metrics: true,
            pool_name: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            sqlcommenter: None,
        }
    }
}

impl fmt::Debug for TracingOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingOptions")
            .field("query_text", &self.query_text)
            .field("max_query_text_len", &self.max_query_text_len)
            .field("error_text", &self.error_text)
            .field("record_row_counts", &self.record_row_counts)
            .field(
                "parse_operation_and_collection",
                &self.parse_operation_and_collection,
            )
            .field("pool_metrics", &self.pool_metrics)
            .field("pool_name", &self.pool_name)
            .field("cache_capacity", &self.cache_capacity)
            .field("sqlcommenter", &self.sqlcommenter)
            .finish()
    }
}

/// Writes the statement-level setters of a builder holding a [`TracingOptions`] in its
/// `options` field: `TracedPoolBuilder` and `QueryLogLayerBuilder` record statements alike,
/// and this is the one definition (and documentation) of those words.
macro_rules! statement_options {
    () => {
        /// Records `db.response.returned_rows` and
        /// [`db.response.affected_rows`](crate::DB_RESPONSE_AFFECTED_ROWS) (opt-in; the
        /// query-log layer takes them from the counts sqlx logs).
        pub fn record_row_counts(mut self, on: bool) -> Self {
            self.options.record_row_counts = on;
            self
        }

        /// Also records `db.operation.name` and `db.collection.name` parsed out of the query
        /// text (default off: the SQL conventions say they SHOULD NOT be taken from the text,
        /// and the `db.query.summary` — `SELECT orders` — carries the same information). The
        /// parsed collection is recorded only when the statement touches exactly one table.
        pub fn parse_operation_and_collection(mut self, on: bool) -> Self {
            self.options.parse_operation_and_collection = on;
            self
        }

        /// Number of distinct SQL strings whose analysis is cached (default 512; 0 disables).
        pub fn cache_capacity(mut self, capacity: usize) -> Self {
            self.options.cache_capacity = capacity;
            self
        }
    };
}
pub(crate) use statement_options;
