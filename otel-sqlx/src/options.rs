//! [`TracingOptions`]: what the traced pool records.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use otel_rpc::ErrorTextMode;
use otel_rpc::text::{DEFAULT_MAX_QUERY_TEXT_LEN, QueryTextMode};

use crate::sql::{DEFAULT_CACHE_CAPACITY, QueryInfo};

/// Decides whether a query gets a span, from its SQL text. Return `false` to skip it.
pub type QueryFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Names a query's span from its analysis; `None` keeps the default name (the summary).
pub type SpanNamer = Arc<dyn Fn(&QueryInfo) -> Option<Cow<'static, str>> + Send + Sync>;

/// What a traced pool records. Build it with the `TracedPoolBuilder` methods.
#[derive(Clone)]
#[non_exhaustive]
pub struct TracingOptions {
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
    /// Distinct SQL strings whose analysis is cached per pool.
    pub cache_capacity: usize,
    /// Only queries for which it returns `true` get a span.
    pub filter: Option<QueryFilter>,
    /// Custom span names.
    pub span_name: Option<SpanNamer>,
}

impl Default for TracingOptions {
    fn default() -> Self {
        TracingOptions {
            query_text: QueryTextMode::Sanitized,
            max_query_text_len: DEFAULT_MAX_QUERY_TEXT_LEN,
            error_text: ErrorTextMode::Off,
            record_row_counts: false,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            filter: None,
            span_name: None,
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
            .field("cache_capacity", &self.cache_capacity)
            .field("filter", &self.filter.is_some())
            .field("span_name", &self.span_name.is_some())
            .finish()
    }
}
