//! `OTEL_SEMCONV_STABILITY_OPT_IN`: the previous attribute names beside the current ones, from
//! one table (documented on [`SemconvStability`]).

use std::fmt;

use opentelemetry::trace::SpanKind;
use opentelemetry::{Key, KeyValue, StringValue, Value};

use crate::conventions::Domain;

/// The variable of the migration modes.
pub const SEMCONV_STABILITY_ENV: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

/// Which domains also write their previous attribute names on spans: the migration modes of
/// `OTEL_SEMCONV_STABILITY_OPT_IN`.
///
/// With `database/dup`, `http/dup` or `rpc/dup`, spans of that domain carry, beside the current
/// attributes, the names the conventions used before their stable version, for backends and
/// dashboards that still key on them (the conventions' migration guides list the pairs).
///
/// The copies are made in one place, where the [`SpanRecorder`](crate::SpanRecorder) writes
/// span attributes, from values that were already sanitized and capped: an old name never
/// carries more than its new name does, and every adapter gets them without code of its own.
/// They go on spans only: metrics keep the current names (the old metrics had other names
/// and units; see the README's deviations). Without the variable or
/// [`SpanRecorderBuilder::semconv_stability`](crate::SpanRecorderBuilder::semconv_stability)
/// no old name is written.
///
/// | current | previous | domain, side |
/// |---|---|---|
/// | `db.system.name` | `db.system` | database |
/// | `db.namespace` | `db.name` (Redis: `db.redis.database_index`, an int) | database |
/// | `db.query.text` | `db.statement` | database |
/// | `db.operation.name` | `db.operation` | database |
/// | `db.collection.name` | `db.sql.table` (MongoDB: `db.mongodb.collection`) | database |
/// | `server.address` / `server.port` | `net.peer.name` / `net.peer.port` | database; HTTP client |
/// | `server.address` / `server.port` | `net.host.name` / `net.host.port` | HTTP server |
/// | `network.peer.address` / `network.peer.port` | `net.sock.peer.addr` / `net.sock.peer.port` | database, HTTP |
/// | `http.request.method` | `http.method` | HTTP |
/// | `http.response.status_code` | `http.status_code` | HTTP |
/// | `url.full` | `http.url` | HTTP client |
/// | `url.path` (+ `?` `url.query`) | `http.target` | HTTP server |
/// | `url.scheme` | `http.scheme` | HTTP |
/// | `user_agent.original` | `http.user_agent` | HTTP |
/// | `client.address` / `client.port` | `http.client_ip` / `net.sock.peer.port` | HTTP server |
/// | `network.protocol.version` | `net.protocol.version` | HTTP |
/// | `http.request.body.size` / `http.response.body.size` | `http.request_content_length` / `http.response_content_length` | HTTP |
/// | `rpc.system.name` | `rpc.system` | RPC |
/// | `rpc.method` (`pkg.Service/Method`) | `rpc.service` (`pkg.Service`) | RPC |
/// | `rpc.response.status_code` (`"NOT_FOUND"`) | `rpc.grpc.status_code` (`5`) | RPC |
/// | `rpc.request.metadata.<key>` / `rpc.response.metadata.<key>` | `rpc.grpc.request.metadata.<key>` / `rpc.grpc.response.metadata.<key>` | RPC |
///
/// `rpc.method` itself keeps its current value (`pkg.Service/Method`): one key holds one
/// value, and the previous `rpc.method` (the bare method name) is recoverable from it.
///
/// ```
/// use otel_rpc::SemconvStability;
/// let mode = SemconvStability::parse("http, database/dup");
/// assert!(mode.database_dup() && !mode.http_dup() && !mode.rpc_dup());
/// assert_eq!(SemconvStability::default(), SemconvStability::stable());
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct SemconvStability {
    database: bool,
    http: bool,
    rpc: bool,
}

impl fmt::Debug for SemconvStability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on: Vec<&str> = [
            (self.database, "database/dup"),
            (self.http, "http/dup"),
            (self.rpc, "rpc/dup"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        write!(f, "SemconvStability({})", on.join(","))
    }
}

impl SemconvStability {
    /// Current names only (the default without the variable).
    pub fn stable() -> Self {
        Self::default()
    }

    /// The modes of a comma-separated list as the variable gives it: `database/dup`,
    /// `http/dup`, `rpc/dup` turn the copies on; `database`, `http`, `rpc` (current names
    /// only, what is emitted anyway) and unknown entries change nothing.
    pub fn parse(list: &str) -> Self {
        let mut mode = Self::default();
        for entry in list.split(',').map(str::trim) {
            match entry {
                "database/dup" => mode.database = true,
                "http/dup" => mode.http = true,
                "rpc/dup" => mode.rpc = true,
                _ => {}
            }
        }
        mode
    }

    /// The modes of `OTEL_SEMCONV_STABILITY_OPT_IN` (none when unset).
    pub fn from_env() -> Self {
        std::env::var(SEMCONV_STABILITY_ENV)
            .map(|v| Self::parse(&v))
            .unwrap_or_default()
    }

    /// With `on`, database spans also carry the previous names.
    #[must_use]
    pub fn with_database_dup(mut self, on: bool) -> Self {
        self.database = on;
        self
    }

    /// With `on`, HTTP spans also carry the previous names.
    #[must_use]
    pub fn with_http_dup(mut self, on: bool) -> Self {
        self.http = on;
        self
    }

    /// With `on`, RPC spans also carry the previous names.
    #[must_use]
    pub fn with_rpc_dup(mut self, on: bool) -> Self {
        self.rpc = on;
        self
    }

    /// `database/dup` is on.
    pub fn database_dup(&self) -> bool {
        self.database
    }

    /// `http/dup` is on.
    pub fn http_dup(&self) -> bool {
        self.http
    }

    /// `rpc/dup` is on.
    pub fn rpc_dup(&self) -> bool {
        self.rpc
    }

    /// The previous names a recorder of `domain` and `kind` writes, when its mode is on.
    pub(crate) fn previous_names(self, domain: Domain, kind: &SpanKind) -> Option<PreviousNames> {
        let family = match domain {
            Domain::Db if self.database => Family::Db,
            Domain::HttpServer | Domain::HttpClient if self.http => Family::Http,
            Domain::RpcServer | Domain::RpcClient if self.rpc => Family::Rpc,
            _ => return None,
        };
        Some(PreviousNames {
            family,
            server: *kind == SpanKind::Server,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Db,
    Http,
    Rpc,
}

/// The one table of previous names of one recorder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreviousNames {
    family: Family,
    server: bool,
}

/// The gRPC code names, in code order (0 = `OK`).
const GRPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

impl PreviousNames {
    /// Appends to `out` the previous-name copy of every attribute of `attributes` that has
    /// one (`attributes` already capped). `context` holds the operation's start attributes
    /// (for rules that depend on the database system or combine two attributes).
    pub(crate) fn extend(
        &self,
        attributes: &[KeyValue],
        context: &[KeyValue],
        out: &mut Vec<KeyValue>,
    ) {
        for kv in attributes {
            if let Some(copy) = self.copy(kv, context) {
                out.push(copy);
            }
        }
    }

    /// The previous-name copy of `kv`, if it has one.
    #[allow(deprecated)]
    pub(crate) fn copy(&self, kv: &KeyValue, context: &[KeyValue]) -> Option<KeyValue> {
        use opentelemetry_semantic_conventions::attribute as a;
        let key = kv.key.as_str();
        let same = |old: &'static str| Some(KeyValue::new(old, kv.value.clone()));
        let peer = |name: &'static str, port: &'static str| -> Option<KeyValue> {
            match key {
                a::SERVER_ADDRESS => same(name),
                a::SERVER_PORT => same(port),
                _ => None,
            }
        };
        match self.family {
            Family::Db => match key {
                a::DB_SYSTEM_NAME => same(a::DB_SYSTEM),
                a::DB_NAMESPACE if system(context) == Some("redis") => {
                    let index = string(&kv.value)?.parse::<i64>().ok()?;
                    Some(KeyValue::new(a::DB_REDIS_DATABASE_INDEX, index))
                }
                a::DB_NAMESPACE => same(a::DB_NAME),
                a::DB_QUERY_TEXT => same(a::DB_STATEMENT),
                a::DB_OPERATION_NAME => same(a::DB_OPERATION),
                a::DB_COLLECTION_NAME if system(context) == Some("mongodb") => {
                    same(a::DB_MONGODB_COLLECTION)
                }
                a::DB_COLLECTION_NAME => same(a::DB_SQL_TABLE),
                a::NETWORK_PEER_ADDRESS => same(a::NET_SOCK_PEER_ADDR),
                a::NETWORK_PEER_PORT => same(a::NET_SOCK_PEER_PORT),
                _ => peer(a::NET_PEER_NAME, a::NET_PEER_PORT),
            },
            Family::Http => match key {
                a::HTTP_REQUEST_METHOD => same(a::HTTP_METHOD),
                a::HTTP_RESPONSE_STATUS_CODE => same(a::HTTP_STATUS_CODE),
                a::URL_FULL => same(a::HTTP_URL),
                a::URL_SCHEME => same(a::HTTP_SCHEME),
                a::URL_PATH if self.server => {
                    let path = string(&kv.value)?;
                    let target = match context.iter().find(|c| c.key.as_str() == a::URL_QUERY) {
                        Some(query) => format!("{path}?{}", query.value.as_str()),
                        None => path.to_owned(),
                    };
                    Some(KeyValue::new(a::HTTP_TARGET, target))
                }
                a::USER_AGENT_ORIGINAL => same(a::HTTP_USER_AGENT),
                a::CLIENT_ADDRESS if self.server => same(a::HTTP_CLIENT_IP),
                a::CLIENT_PORT if self.server => same(a::NET_SOCK_PEER_PORT),
                a::NETWORK_PEER_ADDRESS => same(a::NET_SOCK_PEER_ADDR),
                a::NETWORK_PEER_PORT => same(a::NET_SOCK_PEER_PORT),
                a::NETWORK_PROTOCOL_VERSION => same(a::NET_PROTOCOL_VERSION),
                a::HTTP_REQUEST_BODY_SIZE => same(a::HTTP_REQUEST_CONTENT_LENGTH),
                a::HTTP_RESPONSE_BODY_SIZE => same(a::HTTP_RESPONSE_CONTENT_LENGTH),
                _ if self.server => peer(a::NET_HOST_NAME, a::NET_HOST_PORT),
                _ => peer(a::NET_PEER_NAME, a::NET_PEER_PORT),
            },
            Family::Rpc => match key {
                a::RPC_SYSTEM_NAME => same(a::RPC_SYSTEM),
                a::RPC_METHOD => {
                    let (service, _) = string(&kv.value)?.rsplit_once('/')?;
                    Some(KeyValue::new(a::RPC_SERVICE, service.to_owned()))
                }
                a::RPC_RESPONSE_STATUS_CODE => {
                    let name = string(&kv.value)?;
                    let code = GRPC_CODES.iter().position(|c| *c == name)?;
                    Some(KeyValue::new(a::RPC_GRPC_STATUS_CODE, code as i64))
                }
                _ => {
                    let renamed = [
                        (a::RPC_REQUEST_METADATA, a::RPC_GRPC_REQUEST_METADATA),
                        (a::RPC_RESPONSE_METADATA, a::RPC_GRPC_RESPONSE_METADATA),
                    ]
                    .into_iter()
                    .find_map(|(new, old)| {
                        let rest = key.strip_prefix(new)?.strip_prefix('.')?;
                        Some(Key::from(format!("{old}.{rest}")))
                    })?;
                    Some(KeyValue::new(renamed, kv.value.clone()))
                }
            },
        }
    }
}

/// `db.system.name` among `context`.
fn system(context: &[KeyValue]) -> Option<&str> {
    use opentelemetry_semantic_conventions::attribute::DB_SYSTEM_NAME;
    context
        .iter()
        .find(|kv| kv.key.as_str() == DB_SYSTEM_NAME)
        .and_then(|kv| string(&kv.value))
}

fn string(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(StringValue::as_str(s)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(
        mode: &str,
        domain: Domain,
        kind: SpanKind,
        kv: KeyValue,
        context: &[KeyValue],
    ) -> Option<String> {
        let names = SemconvStability::parse(mode).previous_names(domain, &kind)?;
        names
            .copy(&kv, context)
            .map(|c| format!("{}={}", c.key, c.value))
    }

    #[test]
    fn the_table() {
        use opentelemetry_semantic_conventions::attribute as a;
        let db = |kv, cx: &[KeyValue]| copy("database/dup", Domain::Db, SpanKind::Client, kv, cx);
        assert_eq!(
            db(KeyValue::new(a::DB_SYSTEM_NAME, "postgresql"), &[]).as_deref(),
            Some("db.system=postgresql")
        );
        let redis = [KeyValue::new(a::DB_SYSTEM_NAME, "redis")];
        assert_eq!(
            db(KeyValue::new(a::DB_NAMESPACE, "3"), &redis).as_deref(),
            Some("db.redis.database_index=3")
        );
        let mongo = [KeyValue::new(a::DB_SYSTEM_NAME, "mongodb")];
        assert_eq!(
            db(KeyValue::new(a::DB_COLLECTION_NAME, "orders"), &mongo).as_deref(),
            Some("db.mongodb.collection=orders")
        );
        assert_eq!(
            db(KeyValue::new(a::SERVER_PORT, 5432), &[]).as_deref(),
            Some("net.peer.port=5432")
        );
        assert_eq!(
            db(KeyValue::new(a::DB_QUERY_SUMMARY, "SELECT t"), &[]),
            None
        );
        // Off without the mode, and per domain.
        assert_eq!(
            copy(
                "http/dup",
                Domain::Db,
                SpanKind::Client,
                KeyValue::new(a::DB_SYSTEM_NAME, "x"),
                &[]
            ),
            None
        );
        let server =
            |kv, cx: &[KeyValue]| copy("http/dup", Domain::HttpServer, SpanKind::Server, kv, cx);
        let query = [KeyValue::new(a::URL_QUERY, "q=REDACTED")];
        assert_eq!(
            server(KeyValue::new(a::URL_PATH, "/a"), &query).as_deref(),
            Some("http.target=/a?q=REDACTED")
        );
        assert_eq!(
            server(KeyValue::new(a::SERVER_ADDRESS, "h"), &[]).as_deref(),
            Some("net.host.name=h")
        );
        let rpc = |kv| copy("rpc/dup", Domain::RpcClient, SpanKind::Client, kv, &[]);
        assert_eq!(
            rpc(KeyValue::new(a::RPC_RESPONSE_STATUS_CODE, "NOT_FOUND")).as_deref(),
            Some("rpc.grpc.status_code=5")
        );
        assert_eq!(
            rpc(KeyValue::new(a::RPC_METHOD, "pkg.Svc/Get")).as_deref(),
            Some("rpc.service=pkg.Svc")
        );
        assert_eq!(rpc(KeyValue::new(a::RPC_METHOD, "_OTHER")), None);
        assert_eq!(
            rpc(KeyValue::new("rpc.request.metadata.x-tenant", "acme")).as_deref(),
            Some("rpc.grpc.request.metadata.x-tenant=acme")
        );
    }
}
