//! The semantic conventions each domain follows, in one place: the version and schema URL,
//! the span-start (sampling-relevant) attributes, the detail attributes, and the metric
//! attributes with their requirement levels. Recorders, layers and adapters read it; tests
//! check exported telemetry against it.
//!
//! Every domain follows semantic conventions **1.42.0** (the version of the
//! `opentelemetry-semantic-conventions` 0.33 crate, whose constants we use; schema URL
//! [`SCHEMA_URL`]). Database (for PostgreSQL, MySQL, MariaDB, SQL Server), HTTP and their
//! duration metrics are stable there; RPC is a **release candidate**, and its next release
//! renames `rpc.response.status_code` to `rpc.status_code`: that rename is the one line of
//! [`RPC_STATUS_CODE`]. Where the conventions were read from a later text (1.43: a Mongo
//! insert of many documents is not a batch), the domain's [`Conventions::notes`] say so.
//!
//! ```
//! use otel_rpc::Domain;
//! use otel_rpc::testing::Requirement;
//!
//! let db = Domain::Db.conventions();
//! assert_eq!(db.semconv_version, "1.42.0");
//! assert!(db.span_start.iter().any(|a| a.key == "db.system.name"));
//! // db.query.text is sampling-relevant in the spec but given after sampling (a deviation).
//! assert!(db.deferred_start.contains(&"db.query.text"));
//! assert_eq!(Domain::HttpServer.conventions().metric_requirement("server.address"), Some(Requirement::OptIn));
//! ```

use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute as a;
use opentelemetry_semantic_conventions::metric;

/// The instrumentation scope name of this crate's own telemetry (the layers' spans and
/// metrics, the target of exception log events).
pub(crate) const SCOPE: &str = env!("CARGO_PKG_NAME");

/// The schema URL every domain's recorder reports (semantic conventions 1.42.0).
pub const SCHEMA_URL: &str = opentelemetry_semantic_conventions::SCHEMA_URL;

/// The semantic-conventions version followed, matching [`SCHEMA_URL`].
pub const SEMCONV_VERSION: &str = "1.42.0";

/// The RPC response status code attribute: `rpc.response.status_code` in 1.42 (release
/// candidate); the next release calls it `rpc.status_code`, and this is the one line to change.
pub const RPC_STATUS_CODE: &str = a::RPC_RESPONSE_STATUS_CODE;

/// A requirement level of the semantic conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// Always recorded.
    Required,
    /// Recorded when its condition holds (e.g. `error.type` when the operation failed).
    ConditionallyRequired,
    /// Recorded by default when available.
    Recommended,
    /// Recorded only when the user opts in.
    OptIn,
}

/// The stability of a domain's conventions in the followed version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stability {
    /// Stable.
    Stable,
    /// Release candidate: may still change (RPC).
    ReleaseCandidate,
}

/// One attribute of a convention with its requirement level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Attr {
    /// The attribute key.
    pub key: &'static str,
    /// Its requirement level.
    pub requirement: Requirement,
}

const fn req(key: &'static str) -> Attr {
    Attr {
        key,
        requirement: Requirement::Required,
    }
}
const fn cond(key: &'static str) -> Attr {
    Attr {
        key,
        requirement: Requirement::ConditionallyRequired,
    }
}
const fn rec(key: &'static str) -> Attr {
    Attr {
        key,
        requirement: Requirement::Recommended,
    }
}
const fn opt(key: &'static str) -> Attr {
    Attr {
        key,
        requirement: Requirement::OptIn,
    }
}

/// What one domain's conventions say, as this workspace applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conventions {
    /// The domain.
    pub domain: Domain,
    /// The semantic-conventions version followed.
    pub semconv_version: &'static str,
    /// The schema URL of that version (the recorder's instrumentation scope carries it).
    pub schema_url: &'static str,
    /// Stability of the domain's conventions in that version.
    pub stability: Stability,
    /// The span kind.
    pub span_kind: SpanKind,
    /// The attributes the conventions list as sampling-relevant (to be given at span creation),
    /// with their span requirement levels.
    pub span_start: &'static [Attr],
    /// Keys of `span_start` given after the sampler ran, deliberately (a documented deviation:
    /// building them costs the unsampled fast path).
    pub deferred_start: &'static [&'static str],
    /// Further span attributes, set once known and only on recording spans.
    pub detail: &'static [Attr],
    /// The duration metric.
    pub metric_name: &'static str,
    /// The metric's attributes with their requirement levels (`OptIn` ones are off by default).
    pub metric: &'static [Attr],
    /// The exception log event name (semconv 1.40+).
    pub exception_event: &'static str,
    /// Notes on how the conventions are applied (deviations, later texts followed).
    pub notes: &'static [&'static str],
}

impl Conventions {
    /// The metric requirement level of `key`, if the metric lists it.
    pub fn metric_requirement(&self, key: &str) -> Option<Requirement> {
        self.metric
            .iter()
            .find(|x| x.key == key)
            .map(|x| x.requirement)
    }

    /// The span requirement level of `key` (start or detail set), if listed.
    pub fn span_requirement(&self, key: &str) -> Option<Requirement> {
        self.span_start
            .iter()
            .chain(self.detail)
            .find(|x| x.key == key)
            .map(|x| x.requirement)
    }

    /// The metric keys recorded by default (every listed key but the opt-in ones).
    pub fn default_metric_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.metric
            .iter()
            .filter(|x| x.requirement != Requirement::OptIn)
            .map(|x| x.key)
    }
}

/// Database client operations.
pub const DB: Conventions = Conventions {
    domain: Domain::Db,
    semconv_version: SEMCONV_VERSION,
    schema_url: SCHEMA_URL,
    stability: Stability::Stable,
    span_kind: SpanKind::Client,
    span_start: &[
        req(a::DB_SYSTEM_NAME),
        cond(a::DB_COLLECTION_NAME),
        cond(a::DB_NAMESPACE),
        cond(a::DB_OPERATION_NAME),
        rec(a::DB_QUERY_SUMMARY),
        rec(a::DB_QUERY_TEXT),
        rec(a::SERVER_ADDRESS),
        cond(a::SERVER_PORT),
    ],
    deferred_start: &[a::DB_QUERY_TEXT],
    detail: &[
        cond(a::DB_OPERATION_BATCH_SIZE),
        cond(a::DB_RESPONSE_STATUS_CODE),
        cond(a::ERROR_TYPE),
        rec(a::DB_STORED_PROCEDURE_NAME),
        rec(a::NETWORK_PEER_ADDRESS),
        rec(a::NETWORK_PEER_PORT),
    ],
    metric_name: metric::DB_CLIENT_OPERATION_DURATION,
    metric: &[
        req(a::DB_SYSTEM_NAME),
        cond(a::DB_COLLECTION_NAME),
        cond(a::DB_NAMESPACE),
        cond(a::DB_OPERATION_NAME),
        rec(a::DB_QUERY_SUMMARY),
        opt(a::DB_QUERY_TEXT),
        cond(a::DB_RESPONSE_STATUS_CODE),
        rec(a::DB_STORED_PROCEDURE_NAME),
        cond(a::ERROR_TYPE),
        rec(a::NETWORK_PEER_ADDRESS),
        rec(a::NETWORK_PEER_PORT),
        rec(a::SERVER_ADDRESS),
        cond(a::SERVER_PORT),
    ],
    exception_event: "db.client.operation.exception",
    notes: &[
        "db.query.text is sanitized and built only for recording spans (lazy), so the sampler does not see it",
        "db.operation.batch.size is given at span start when known (it is not sampling-relevant)",
        "network.peer.* and db.stored_procedure.name are not put on the metric (DB_METRIC_KEYS)",
        "a Mongo insert of many documents is not a batch (semconv 1.43 text)",
    ],
};

/// HTTP server requests.
pub const HTTP_SERVER: Conventions = Conventions {
    domain: Domain::HttpServer,
    semconv_version: SEMCONV_VERSION,
    schema_url: SCHEMA_URL,
    stability: Stability::Stable,
    span_kind: SpanKind::Server,
    span_start: &[
        req(a::HTTP_REQUEST_METHOD),
        req(a::URL_PATH),
        req(a::URL_SCHEME),
        cond(a::URL_QUERY),
        rec(a::CLIENT_ADDRESS),
        rec(a::SERVER_ADDRESS),
        cond(a::SERVER_PORT),
        rec(a::USER_AGENT_ORIGINAL),
    ],
    deferred_start: &[],
    detail: &[
        cond(a::HTTP_ROUTE),
        cond(a::HTTP_RESPONSE_STATUS_CODE),
        cond(a::ERROR_TYPE),
        cond(a::HTTP_REQUEST_METHOD_ORIGINAL),
        cond(a::NETWORK_PROTOCOL_NAME),
        rec(a::NETWORK_PROTOCOL_VERSION),
        rec(a::NETWORK_PEER_ADDRESS),
        rec(a::NETWORK_PEER_PORT),
    ],
    metric_name: metric::HTTP_SERVER_REQUEST_DURATION,
    metric: &[
        req(a::HTTP_REQUEST_METHOD),
        req(a::URL_SCHEME),
        cond(a::ERROR_TYPE),
        cond(a::HTTP_RESPONSE_STATUS_CODE),
        cond(a::HTTP_ROUTE),
        cond(a::NETWORK_PROTOCOL_NAME),
        rec(a::NETWORK_PROTOCOL_VERSION),
        opt(a::SERVER_ADDRESS),
        opt(a::SERVER_PORT),
    ],
    exception_event: "http.server.request.exception",
    notes: &[
        "url.query is recorded with its values redacted",
        "server.address / server.port on the metric are opt-in and never taken from an unvalidated Host",
    ],
};

/// HTTP client requests.
pub const HTTP_CLIENT: Conventions = Conventions {
    domain: Domain::HttpClient,
    semconv_version: SEMCONV_VERSION,
    schema_url: SCHEMA_URL,
    stability: Stability::Stable,
    span_kind: SpanKind::Client,
    span_start: &[
        req(a::HTTP_REQUEST_METHOD),
        req(a::SERVER_ADDRESS),
        req(a::SERVER_PORT),
        req(a::URL_FULL),
    ],
    deferred_start: &[],
    detail: &[
        cond(a::HTTP_RESPONSE_STATUS_CODE),
        cond(a::ERROR_TYPE),
        cond(a::HTTP_REQUEST_METHOD_ORIGINAL),
        cond(a::NETWORK_PROTOCOL_NAME),
        rec(a::NETWORK_PROTOCOL_VERSION),
        rec(a::HTTP_REQUEST_RESEND_COUNT),
        rec(a::NETWORK_PEER_ADDRESS),
        rec(a::NETWORK_PEER_PORT),
    ],
    metric_name: metric::HTTP_CLIENT_REQUEST_DURATION,
    metric: &[
        req(a::HTTP_REQUEST_METHOD),
        req(a::SERVER_ADDRESS),
        req(a::SERVER_PORT),
        cond(a::ERROR_TYPE),
        cond(a::HTTP_RESPONSE_STATUS_CODE),
        cond(a::NETWORK_PROTOCOL_NAME),
        rec(a::NETWORK_PROTOCOL_VERSION),
        opt(a::URL_SCHEME),
        opt(a::URL_TEMPLATE),
    ],
    exception_event: "http.client.request.exception",
    notes: &["url.full is recorded with credentials removed and query values redacted"],
};

/// RPC server calls (release candidate).
pub const RPC_SERVER: Conventions = Conventions {
    domain: Domain::RpcServer,
    semconv_version: SEMCONV_VERSION,
    schema_url: SCHEMA_URL,
    stability: Stability::ReleaseCandidate,
    span_kind: SpanKind::Server,
    span_start: &[
        req(a::RPC_SYSTEM_NAME),
        cond(a::RPC_METHOD),
        rec(a::SERVER_ADDRESS),
        cond(a::SERVER_PORT),
    ],
    deferred_start: &[],
    detail: &[
        cond(RPC_STATUS_CODE),
        cond(a::ERROR_TYPE),
        cond(a::RPC_METHOD_ORIGINAL),
        rec(a::CLIENT_ADDRESS),
        rec(a::CLIENT_PORT),
        rec(a::NETWORK_PEER_ADDRESS),
        rec(a::NETWORK_PEER_PORT),
    ],
    metric_name: metric::RPC_SERVER_CALL_DURATION,
    metric: &[
        req(a::RPC_SYSTEM_NAME),
        cond(a::RPC_METHOD),
        cond(RPC_STATUS_CODE),
        cond(a::ERROR_TYPE),
        opt(a::SERVER_ADDRESS),
        opt(a::SERVER_PORT),
    ],
    exception_event: "rpc.server.call.exception",
    notes: &[
        "rpc.method is _OTHER for a method the server does not serve; the original goes to rpc.method_original on the span",
        "rpc.response.status_code becomes rpc.status_code in the next release (RPC_STATUS_CODE)",
    ],
};

/// RPC client calls (release candidate).
pub const RPC_CLIENT: Conventions = Conventions {
    domain: Domain::RpcClient,
    semconv_version: SEMCONV_VERSION,
    schema_url: SCHEMA_URL,
    stability: Stability::ReleaseCandidate,
    span_kind: SpanKind::Client,
    span_start: &[
        req(a::RPC_SYSTEM_NAME),
        cond(a::RPC_METHOD),
        rec(a::SERVER_ADDRESS),
        cond(a::SERVER_PORT),
    ],
    deferred_start: &[],
    detail: &[
        cond(RPC_STATUS_CODE),
        cond(a::ERROR_TYPE),
        rec(a::NETWORK_PEER_ADDRESS),
        rec(a::NETWORK_PEER_PORT),
    ],
    metric_name: metric::RPC_CLIENT_CALL_DURATION,
    metric: &[
        req(a::RPC_SYSTEM_NAME),
        cond(a::RPC_METHOD),
        cond(RPC_STATUS_CODE),
        cond(a::ERROR_TYPE),
        cond(a::SERVER_ADDRESS),
        cond(a::SERVER_PORT),
    ],
    exception_event: "rpc.client.call.exception",
    notes: &[
        "rpc.response.status_code becomes rpc.status_code in the next release (RPC_STATUS_CODE)",
    ],
};

/// The domain a [`SpanRecorder`](crate::SpanRecorder) records for: it decides the schema URL of
/// the recorder's instrumentation scope, the exception log event name and whether
/// database classification applies in [`Recording::end`](crate::Recording::end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Domain {
    /// Database client operations (`db.client.operation.duration`).
    Db,
    /// HTTP server requests (`http.server.request.duration`).
    HttpServer,
    /// HTTP client requests (`http.client.request.duration`).
    HttpClient,
    /// RPC server calls (`rpc.server.call.duration`).
    RpcServer,
    /// RPC client calls (`rpc.client.call.duration`).
    RpcClient,
}

impl Domain {
    /// Every domain.
    pub const ALL: [Domain; 5] = [
        Domain::Db,
        Domain::HttpServer,
        Domain::HttpClient,
        Domain::RpcServer,
        Domain::RpcClient,
    ];

    /// The domain's conventions.
    pub fn conventions(self) -> &'static Conventions {
        match self {
            Domain::Db => &DB,
            Domain::HttpServer => &HTTP_SERVER,
            Domain::HttpClient => &HTTP_CLIENT,
            Domain::RpcServer => &RPC_SERVER,
            Domain::RpcClient => &RPC_CLIENT,
        }
    }

    /// The duration metric of the domain.
    pub fn duration_metric_name(self) -> &'static str {
        self.conventions().metric_name
    }

    /// The domain whose duration metric is called `name`, if any.
    pub fn from_metric_name(name: &str) -> Option<Domain> {
        Domain::ALL
            .into_iter()
            .find(|d| d.duration_metric_name() == name)
    }

    /// The event name of an exception log record (semconv 1.40+).
    pub fn exception_event_name(self) -> &'static str {
        self.conventions().exception_event
    }

    /// The schema URL of the semantic-conventions version the domain follows.
    pub fn schema_url(self) -> &'static str {
        self.conventions().schema_url
    }
}
