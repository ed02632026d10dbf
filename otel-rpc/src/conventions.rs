//! The semantic conventions each domain follows, in one place: the version and schema URL,
//! the span-start (sampling-relevant) attributes, the detail attributes, and the metric
//! attributes with their requirement levels. Recorders, layers and adapters read it; tests
//! check exported telemetry against it.

use opentelemetry_semantic_conventions::metric;

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

    /// The duration metric of the domain.
    pub fn duration_metric_name(self) -> &'static str {
        match self {
            Domain::Db => metric::DB_CLIENT_OPERATION_DURATION,
            Domain::HttpServer => metric::HTTP_SERVER_REQUEST_DURATION,
            Domain::HttpClient => metric::HTTP_CLIENT_REQUEST_DURATION,
            Domain::RpcServer => metric::RPC_SERVER_CALL_DURATION,
            Domain::RpcClient => metric::RPC_CLIENT_CALL_DURATION,
        }
    }

    /// The domain whose duration metric is called `name`, if any.
    pub fn from_metric_name(name: &str) -> Option<Domain> {
        Domain::ALL
            .into_iter()
            .find(|d| d.duration_metric_name() == name)
    }

    /// The event name of an exception log record (semconv 1.40+).
    pub fn exception_event_name(self) -> &'static str {
        match self {
            Domain::Db => "db.client.operation.exception",
            Domain::HttpServer => "http.server.request.exception",
            Domain::HttpClient => "http.client.request.exception",
            Domain::RpcServer => "rpc.server.call.exception",
            Domain::RpcClient => "rpc.client.call.exception",
        }
    }

    /// The schema URL of the semantic-conventions version the domain follows.
    pub fn schema_url(self) -> &'static str {
        opentelemetry_semantic_conventions::SCHEMA_URL
    }
}
