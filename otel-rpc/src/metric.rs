//! The `*.duration` histogram every recorder feeds: names, units and bucket boundaries.

use std::borrow::Cow;

use opentelemetry::metrics::Meter;
use opentelemetry_semantic_conventions::{attribute, metric};

pub(crate) mod bounded;
mod db_keys;
mod distinct;
mod instruments;
mod prepared;
pub(crate) use db_keys::{DB_KEYS, DbValueRule, bound_db_str, bound_db_value};
pub(crate) use distinct::DistinctValues;
pub(crate) use distinct::{
    Entry as DistinctEntry, SLOTS as DISTINCT_SLOTS, slot_of as distinct_slot,
};
pub(crate) use instruments::{ExtraMetrics, HttpInstruments, HttpState, Instruments};
pub(crate) use prepared::PreparedMetric;

/// Bucket boundaries (seconds) the database semantic conventions advise for
/// `db.client.operation.duration`.
pub const DB_DURATION_BOUNDARIES: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

/// Bucket boundaries (seconds) the HTTP and RPC semantic conventions advise for
/// `http.*.request.duration` and `rpc.*.call.duration`.
pub const HTTP_DURATION_BOUNDARIES: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Attribute keys that may go on `db.client.operation.duration`: low cardinality only (never
/// query text, never a connection id). Every value is bounded by the rule of its key, applied
/// in one place for span and metric alike:
///
/// | key | rule |
/// |---|---|
/// | `db.system.name` | closed: the adapter's constant |
/// | `db.namespace` | capped at [`MAX_NAME_LEN`](crate::untrusted::MAX_NAME_LEN) bytes; distinct values bounded (\*) |
/// | `db.collection.name` | must pass [`name_shape_ok`](crate::untrusted::name_shape_ok), else omitted; distinct values bounded (\*) |
/// | `db.operation.name` | closed per adapter (SQL keywords, command names), capped; distinct values bounded (\*) |
/// | `db.query.summary` | capped at `MAX_NAME_LEN` bytes; distinct values bounded (\*) |
/// | `db.response.status_code`, `error.type` | closed per adapter (SQLSTATE, code, `_OTHER`), capped |
/// | `server.address` / `server.port` | from the connection configuration, capped |
///
/// (\*) On the metric only: each recorder admits the first
/// [`max_distinct_values`](DurationMetric::max_distinct_values) distinct values of each of
/// these four keys (default [`DurationMetric::DEFAULT_MAX_DISTINCT_VALUES`] = 256) and records
/// every later new value as `_OTHER`; the span keeps the capped value. So a flood of distinct
/// names (10,000 statements over 10,000 tables) adds one `_OTHER` series per outcome instead of
/// 10,000 series, and the statements the application ran first keep theirs. Series of the
/// metric are at most the product, over the attributes present, of their number of values
/// (each bounded key at most `max_distinct_values + 1`); with one namespace and only the
/// summary parsed (otel-sqlx's default) that is `(max_distinct_values + 1)` times the outcomes
/// (`error.type` x `db.response.status_code`). Memory held: at most `max_distinct_values`
/// values of at most `MAX_NAME_LEN` bytes per key (about 264 KB per recorder at the default,
/// typically a few KB).
pub const DB_METRIC_KEYS: &[&str] = &[
    attribute::DB_SYSTEM_NAME,
    attribute::DB_NAMESPACE,
    attribute::DB_COLLECTION_NAME,
    attribute::DB_OPERATION_NAME,
    attribute::DB_QUERY_SUMMARY,
    attribute::DB_RESPONSE_STATUS_CODE,
    attribute::ERROR_TYPE,
    attribute::SERVER_ADDRESS,
    attribute::SERVER_PORT,
];

/// Attribute keys that may go on `http.server.request.duration` by default: every value from
/// a closed set or the application's own route table. `server.address` / `server.port` are
/// opt-in in the conventions (the client chooses them through `Host`), see
/// [`HTTP_SERVER_METRIC_KEYS_WITH_SERVER_ADDRESS`].
pub const HTTP_SERVER_METRIC_KEYS: &[&str] = &[
    attribute::HTTP_REQUEST_METHOD,
    attribute::HTTP_ROUTE,
    attribute::HTTP_RESPONSE_STATUS_CODE,
    attribute::URL_SCHEME,
    attribute::ERROR_TYPE,
    attribute::NETWORK_PROTOCOL_NAME,
    attribute::NETWORK_PROTOCOL_VERSION,
];

/// [`HTTP_SERVER_METRIC_KEYS`] plus the opt-in `server.address` / `server.port`.
#[cfg_attr(not(any(feature = "http", feature = "testing")), allow(dead_code))]
pub const HTTP_SERVER_METRIC_KEYS_WITH_SERVER_ADDRESS: &[&str] = &[
    attribute::HTTP_REQUEST_METHOD,
    attribute::HTTP_ROUTE,
    attribute::HTTP_RESPONSE_STATUS_CODE,
    attribute::URL_SCHEME,
    attribute::ERROR_TYPE,
    attribute::NETWORK_PROTOCOL_NAME,
    attribute::NETWORK_PROTOCOL_VERSION,
    attribute::SERVER_ADDRESS,
    attribute::SERVER_PORT,
];

/// Attribute keys that may go on `http.client.request.duration` by default (`url.scheme` and
/// `url.template` are opt-in there in the conventions).
pub const HTTP_CLIENT_METRIC_KEYS: &[&str] = &[
    attribute::HTTP_REQUEST_METHOD,
    attribute::HTTP_RESPONSE_STATUS_CODE,
    attribute::ERROR_TYPE,
    attribute::SERVER_ADDRESS,
    attribute::SERVER_PORT,
    attribute::NETWORK_PROTOCOL_NAME,
    attribute::NETWORK_PROTOCOL_VERSION,
];

/// Attribute keys that may go on the RPC duration metrics.
pub const RPC_METRIC_KEYS: &[&str] = &[
    attribute::RPC_SYSTEM_NAME,
    attribute::RPC_METHOD,
    attribute::RPC_RESPONSE_STATUS_CODE,
    attribute::ERROR_TYPE,
    attribute::SERVER_ADDRESS,
    attribute::SERVER_PORT,
];

/// Describes the duration histogram of a recorder: its name, bucket boundaries and which span
/// attributes are copied onto each data point.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DurationMetric {
    /// Instrument name, e.g. `db.client.operation.duration`.
    pub name: Cow<'static, str>,
    /// Human readable description.
    pub description: Cow<'static, str>,
    /// Explicit bucket boundaries, in seconds.
    pub boundaries: Vec<f64>,
    /// Span attribute keys copied onto the metric (the allow-list keeps cardinality low).
    pub keys: Cow<'static, [&'static str]>,
    /// How many distinct values of each free-text database key (`db.namespace`,
    /// `db.collection.name`, `db.operation.name`, `db.query.summary`) a recorder admits onto
    /// the metric; later new values are recorded as `_OTHER` there (see the database metric keys).
    /// Default [`DEFAULT_MAX_DISTINCT_VALUES`](Self::DEFAULT_MAX_DISTINCT_VALUES).
    pub max_distinct_values: usize,
    /// The HTTP metrics recorded beside the duration (opt-in, HTTP layers only).
    pub(crate) extra: ExtraMetrics,
}

impl DurationMetric {
    /// Default of [`max_distinct_values`](Self::max_distinct_values): 256 per key and recorder.
    pub const DEFAULT_MAX_DISTINCT_VALUES: usize = 256;

    /// `db.client.operation.duration` with the advised buckets.
    pub fn db_client() -> Self {
        DurationMetric {
            name: Cow::Borrowed(metric::DB_CLIENT_OPERATION_DURATION),
            description: Cow::Borrowed("Duration of database client operations."),
            boundaries: DB_DURATION_BOUNDARIES.to_vec(),
            keys: Cow::Borrowed(DB_METRIC_KEYS),
            max_distinct_values: Self::DEFAULT_MAX_DISTINCT_VALUES,
            extra: ExtraMetrics::default(),
        }
    }

    /// `http.server.request.duration` (without the opt-in `server.address` / `server.port`).
    pub fn http_server() -> Self {
        Self::http(
            metric::HTTP_SERVER_REQUEST_DURATION,
            "Duration of HTTP server requests.",
            HTTP_SERVER_METRIC_KEYS,
        )
    }

    /// `http.client.request.duration`.
    pub fn http_client() -> Self {
        Self::http(
            metric::HTTP_CLIENT_REQUEST_DURATION,
            "Duration of HTTP client requests.",
            HTTP_CLIENT_METRIC_KEYS,
        )
    }

    /// `rpc.server.call.duration`.
    pub fn rpc_server() -> Self {
        Self::rpc(
            metric::RPC_SERVER_CALL_DURATION,
            "Duration of RPC server calls.",
        )
    }

    /// `rpc.client.call.duration`.
    pub fn rpc_client() -> Self {
        Self::rpc(
            metric::RPC_CLIENT_CALL_DURATION,
            "Duration of RPC client calls.",
        )
    }

    fn http(name: &'static str, description: &'static str, keys: &'static [&'static str]) -> Self {
        DurationMetric {
            name: Cow::Borrowed(name),
            description: Cow::Borrowed(description),
            boundaries: HTTP_DURATION_BOUNDARIES.to_vec(),
            keys: Cow::Borrowed(keys),
            max_distinct_values: Self::DEFAULT_MAX_DISTINCT_VALUES,
            extra: ExtraMetrics::default(),
        }
    }

    fn rpc(name: &'static str, description: &'static str) -> Self {
        DurationMetric {
            name: Cow::Borrowed(name),
            description: Cow::Borrowed(description),
            boundaries: HTTP_DURATION_BOUNDARIES.to_vec(),
            keys: Cow::Borrowed(RPC_METRIC_KEYS),
            max_distinct_values: Self::DEFAULT_MAX_DISTINCT_VALUES,
            extra: ExtraMetrics::default(),
        }
    }

    /// Replaces the instrument name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// Replaces the bucket boundaries (seconds).
    #[must_use]
    pub fn with_boundaries(mut self, boundaries: Vec<f64>) -> Self {
        self.boundaries = boundaries;
        self
    }

    /// Replaces the allow-list of attribute keys copied onto the metric.
    #[must_use]
    pub fn with_keys(mut self, keys: impl Into<Cow<'static, [&'static str]>>) -> Self {
        self.keys = keys.into();
        self
    }

    /// Replaces [`max_distinct_values`](Self::max_distinct_values): how many distinct values
    /// of each free-text database key a recorder admits onto the metric (`usize::MAX`: no
    /// bound but the length cap).
    #[must_use]
    pub fn with_max_distinct_values(mut self, n: usize) -> Self {
        self.max_distinct_values = n;
        self
    }

    /// The per-recorder bound on free-text database values, when the metric carries any of
    /// those keys and the bound is not switched off.
    pub(crate) fn distinct_values(&self) -> Option<DistinctValues> {
        let bounded = self.keys.iter().any(|k| distinct_slot(k).is_some());
        (bounded && self.max_distinct_values != usize::MAX)
            .then(|| DistinctValues::new(self.max_distinct_values))
    }

    pub(crate) fn build(&self, meter: &Meter) -> Instruments {
        let duration = meter
            .f64_histogram(self.name.clone())
            .with_unit("s")
            .with_description(self.description.clone())
            .with_boundaries(self.boundaries.clone())
            .build();
        Instruments::new(duration, meter, self.extra)
    }

    /// `true` when `key` may be copied onto the metric.
    pub(crate) fn allows(&self, key: &str) -> bool {
        self.keys.contains(&key)
    }
}

/// Metric attributes an operation may add when it ends (the response status code and
/// `error.type`): the metric attribute vectors are allocated with room for them, so the end of
/// an operation never reallocates (a reallocation was ~540 instructions per push).
pub(crate) const END_ATTRIBUTES: usize = 2;

/// A metric attribute bounded before it is recorded: a string value longer than
/// `MAX_NAME_LEN` bytes is cut (with the truncation marker). The last line of defence for
/// values that layers and adapters give through `SpanRecorder::start_with` and
/// `Recording::set_metric_attribute`; their closed sets are theirs. Allocates only when it cuts.
pub(crate) fn bound_metric_value(kv: opentelemetry::KeyValue) -> opentelemetry::KeyValue {
    use crate::untrusted::MAX_NAME_LEN;
    match &kv.value {
        opentelemetry::Value::String(s) if s.as_str().len() > MAX_NAME_LEN => {
            let cut = crate::text::truncate(s.as_str(), MAX_NAME_LEN).into_owned();
            opentelemetry::KeyValue::new(kv.key, cut)
        }
        _ => kv,
    }
}
