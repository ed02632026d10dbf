//! Shared fixtures of the reliability and secrets tests: traced adapters pointed at one
//! isolated [`TestTelemetry`], a tiny HTTP app and a gRPC echo service behind the
//! `otel-rpc` layers, and span bookkeeping helpers.
#![allow(dead_code)]

use otel_rpc::InstrumentationOptions;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mongodb::options::ClientOptions;
use opentelemetry::trace::{SpanId, Status};
use otel_mongo::OtelCommandHandler;
use otel_rpc::{GrpcClientLayer, GrpcClientService, GrpcServerLayer};
use otel_rpc::{HttpClientLayer, HttpClientService, HttpServerLayer};
use otel_sqlx::TracedPool;
use otel_testkit::{ExportedSpan, TestTelemetry, env};
use tonic::transport::Channel;
use tonic::{Request, Response, Status as GrpcStatus};
use tower::{ServiceBuilder, ServiceExt};

pub mod proto {
    // Generated from otel-rpc/tests/proto/echo.proto by scripts/gen-protos.sh.
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../otel-rpc/tests/gen/echo.rs"
    ));
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

/// How long the slow HTTP route and the slow gRPC message take.
pub const SLOW: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------- databases

/// A traced multiplexed Redis connection on `t`.
pub async fn redis(
    t: &TestTelemetry,
) -> otel_redis::TracedConnection<redis::aio::MultiplexedConnection> {
    let url = env::redis_url();
    env::require("Redis", &url);
    let client = redis::Client::open(url).expect("redis client");
    // Generous response timeout: a reply can queue behind a blocking command.
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(10)));
    let conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("redis connection");
    otel_redis::TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(conn)
}

/// A traced PostgreSQL pool on `t`.
pub async fn postgres(t: &TestTelemetry, max_connections: u32) -> TracedPool<sqlx::Postgres> {
    let url = env::postgres_url();
    env::require("PostgreSQL", &url);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await
        .expect("postgres pool");
    TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build()
}

/// A traced in-memory SQLite pool on `t` (one connection, so one database).
pub async fn sqlite(t: &TestTelemetry) -> TracedPool<sqlx::Sqlite> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite pool");
    TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build()
}

/// A Mongo client with `handler` installed, and a database unique to the caller.
pub async fn mongo(handler: &OtelCommandHandler) -> (mongodb::Client, mongodb::Database) {
    let uri = env::mongodb_uri();
    env::require("FerretDB (MongoDB)", &uri);
    let mut options = ClientOptions::parse(&uri).await.expect("parse MONGODB_URI");
    handler.install(&mut options);
    let client = mongodb::Client::with_options(options).expect("mongo client");
    let db = client.database(&env::unique_name("reliability"));
    (client, db)
}

/// An [`OtelCommandHandler`] on `t`.
pub fn mongo_handler(t: &TestTelemetry) -> OtelCommandHandler {
    OtelCommandHandler::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build()
}

/// Drops `db` through a client without the handler.
pub async fn drop_mongo_db(db: &mongodb::Database) {
    if let Ok(client) = mongodb::Client::with_uri_str(env::mongodb_uri()).await {
        let _ = client.database(db.name()).drop().await;
    }
}

// ---------------------------------------------------------------- HTTP

pub type RawHttpClient = Client<HttpConnector, Full<Bytes>>;
pub type HttpClient = HttpClientService<RawHttpClient>;

/// Serves `/items/{id}` (fast, echoes the id) and `/slow` (sleeps [`SLOW`]) behind the
/// server layer of `t`.
pub async fn http_server(t: &TestTelemetry) -> SocketAddr {
    let app = Router::new()
        .route(
            "/items/{id}",
            get(|axum::extract::Path(id): axum::extract::Path<String>| async move { id }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(SLOW).await;
                "slow"
            }),
        )
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    addr
}

/// A hyper client behind the client layer of `t`.
pub fn http_client(t: &TestTelemetry) -> HttpClient {
    ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        )
        .service(Client::builder(TokioExecutor::new()).build_http())
}

/// GET `uri` with extra `headers`; the status and body, or `None` on a transport error.
pub async fn http_get(
    client: &HttpClient,
    uri: &str,
    headers: &[(&str, &str)],
) -> Option<(u16, Bytes)> {
    let mut req = http::Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::new())).ok()?;
    let response = client.clone().oneshot(req).await.ok()?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, body))
}

// ---------------------------------------------------------------- gRPC

struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, GrpcStatus> {
        let message = request.into_inner().message;
        if message == "slow" {
            tokio::time::sleep(SLOW).await;
        }
        if message == "fail" {
            return Err(GrpcStatus::internal("echo failed"));
        }
        Ok(Response::new(EchoReply { message }))
    }

    type StreamStream =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<EchoReply, GrpcStatus>> + Send>>;

    async fn stream(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, GrpcStatus> {
        Ok(Response::new(Box::pin(futures_util::stream::empty())))
    }
}

pub type GrpcClient = EchoClient<GrpcClientService<Channel>>;

/// Serves the echo service (`"slow"` sleeps [`SLOW`], `"fail"` is INTERNAL) behind the server
/// layer of `t`.
pub async fn grpc_server(t: &TestTelemetry) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await;
    });
    addr
}

/// A tonic client behind the client layer of `t`.
pub async fn grpc_client(t: &TestTelemetry, addr: SocketAddr) -> GrpcClient {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let channel = ServiceBuilder::new()
        .layer(
            GrpcClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .server("127.0.0.1", Some(addr.port()))
                .build(),
        )
        .service(channel);
    EchoClient::new(channel)
}

pub fn echo(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.to_owned(),
        count: 0,
    }
}

// ---------------------------------------------------------------- span bookkeeping

/// `true` for status Error.
pub fn is_error(span: &ExportedSpan) -> bool {
    matches!(span.status, Status::Error { .. })
}

/// The `error.type` attribute as a string.
pub fn error_type(span: &ExportedSpan) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == opentelemetry_semantic_conventions::attribute::ERROR_TYPE)
        .map(|kv| kv.value.to_string())
}

/// Spans grouped by parent span id.
pub fn children_by_parent(spans: &[ExportedSpan]) -> HashMap<SpanId, Vec<&ExportedSpan>> {
    let mut map: HashMap<SpanId, Vec<&ExportedSpan>> = HashMap::new();
    for s in spans {
        map.entry(s.parent_span_id).or_default().push(s);
    }
    map
}

/// Polls `t` until `pred` holds on its spans, for at most `timeout`; the last spans seen.
pub async fn wait_for_spans(
    t: &TestTelemetry,
    timeout: Duration,
    pred: impl Fn(&[ExportedSpan]) -> bool,
) -> Vec<ExportedSpan> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let spans = t.spans();
        if pred(&spans) || tokio::time::Instant::now() >= deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resident set size of this process in KiB (`VmRSS` of /proc/self/status), 0 if unreadable.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
