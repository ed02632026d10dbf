//! Floods of hostile requests against the HTTP and gRPC server layers (real axum / tonic
//! servers on loopback): whatever the client varies, the duration metrics keep a small,
//! fixed number of series.
#![cfg(all(feature = "grpc", feature = "axum"))]

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::grpc::GrpcServerLayer;
use otel_rpc::http::HttpServerLayer;
use otel_testkit::TestTelemetry;
use tonic::{Request, Response, Status};

mod proto {
    include!("gen/echo.rs");
}

use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

/// Requests (or calls) per flood.
const N: usize = 10_000;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;

async fn serve_http(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// The i-th hostile request: its own Host (some huge, some with odd ports), scheme-like
/// headers, path and, every third request, a made-up method.
fn hostile_request(addr: SocketAddr, i: usize) -> http::Request<Full<Bytes>> {
    let path = match i % 3 {
        0 => format!("/users/{i}"),
        1 => format!("/no/such/{i}?token=secret{i}"),
        _ => format!("/{}", "x".repeat(i % 500)),
    };
    let host = match i % 4 {
        0 => format!("h{i}.evil.example"),
        1 => format!("h{i}.evil.example:{}", 1 + i % 60_000),
        2 => format!("{}.evil.example", "a".repeat(1 + i % 2000)),
        _ => format!("evil\"{i}"),
    };
    let method = if i % 3 == 2 {
        http::Method::from_bytes(format!("M{i}").as_bytes()).expect("method")
    } else {
        http::Method::GET
    };
    http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(http::header::HOST, host)
        .header("x-forwarded-proto", format!("gopher{i}"))
        .header("forwarded", format!("proto=x{i};host=f{i}"))
        .header("x-forwarded-host", format!("fh{i}.evil.example"))
        .body(Full::new(Bytes::new()))
        .expect("request")
}

async fn http_flood(layer: HttpServerLayer) {
    let addr = serve_http(
        Router::new()
            .route("/users/{id}", get(|| async { "user" }))
            .layer(layer),
    )
    .await;
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    futures_util::stream::iter(0..N)
        .for_each_concurrent(CONCURRENCY, |i| {
            let client = client.clone();
            async move {
                let _ = client.request(hostile_request(addr, i)).await;
            }
        })
        .await;
}

/// The attribute values of every point of `metric`, for the failure message.
fn points(t: &TestTelemetry, metric: &str) -> Vec<Vec<(String, String)>> {
    t.histogram(metric)
        .iter()
        .map(|p| {
            p.attributes
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                .collect()
        })
        .collect()
}

/// At most this many series of `http.server.request.duration` after a flood: method
/// {`GET`, `_OTHER`} x route {`/users/{id}`, none} x status {200, 404, 405}, one scheme, one
/// protocol version.
const MAX_HTTP_SERIES: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_flood_keeps_series_bounded() {
    let t = TestTelemetry::new();
    http_flood(
        HttpServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .build(),
    )
    .await;
    let metric = "http.server.request.duration";
    let total: u64 = t.histogram(metric).iter().map(|p| p.count).sum();
    assert_eq!(total, N as u64, "every request recorded once");
    let series = t.series(metric);
    assert!(
        (2..=MAX_HTTP_SERIES).contains(&series),
        "{series} series: {:?}",
        points(&t, metric)
    );
    for point in t.histogram(metric) {
        assert_eq!(point.attr(attribute::URL_SCHEME).as_deref(), Some("http"));
        assert_eq!(point.attr(attribute::SERVER_ADDRESS), None);
        assert_eq!(point.attr(attribute::SERVER_PORT), None);
    }
    // The spans carry a server.address only when it has a host's shape and length.
    for span in t.spans() {
        if let Some(host) = span
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == attribute::SERVER_ADDRESS)
        {
            let host = host.value.as_str();
            assert!(host.len() <= 253 && !host.contains('"'), "{host}");
        }
    }
}

/// With the opt-in server address: at most 16 distinct addresses plus `_OTHER`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_flood_with_server_address_opt_in_stays_bounded() {
    let t = TestTelemetry::new();
    http_flood(
        HttpServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .metric_server_address(true)
            .build(),
    )
    .await;
    let metric = "http.server.request.duration";
    let mut addresses: Vec<String> = t
        .histogram(metric)
        .iter()
        .filter_map(|p| p.attr(attribute::SERVER_ADDRESS))
        .collect();
    addresses.sort();
    addresses.dedup();
    assert!(addresses.contains(&"_OTHER".to_owned()), "{addresses:?}");
    assert!(
        addresses.len() <= otel_rpc::http::MAX_METRIC_SERVER_ADDRESSES + 1,
        "{addresses:?}"
    );
    let series = t.series(metric);
    assert!(
        series <= MAX_HTTP_SERIES * (otel_rpc::http::MAX_METRIC_SERVER_ADDRESSES + 1),
        "{series} series"
    );
}

struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        Ok(Response::new(EchoReply {
            message: request.into_inner().message,
        }))
    }

    type StreamStream =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<EchoReply, Status>> + Send>>;

    async fn stream(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Err(Status::unimplemented("no streams here"))
    }
}

async fn serve_grpc(layer: GrpcServerLayer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    addr
}

/// Calls `N` made-up methods (of made-up services and of the real one), interleaved with
/// real calls, through an uninstrumented tonic client.
async fn grpc_flood(addr: SocketAddr) {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    futures_util::stream::iter(0..N)
        .for_each_concurrent(CONCURRENCY, |i| {
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            async move {
                let path = match i % 4 {
                    0 => "/echo.Echo/Say".to_owned(),
                    1 => format!("/echo.Echo/Made{i}"),
                    2 => format!("/evil{i}.Svc/M{i}"),
                    _ => format!("/evil.Svc/{}", "m".repeat(1 + i % 300)),
                };
                let Ok(path) = http::uri::PathAndQuery::try_from(path) else {
                    return;
                };
                if grpc.ready().await.is_err() {
                    return;
                }
                let _ = grpc
                    .unary::<EchoRequest, EchoReply, _>(
                        Request::new(EchoRequest {
                            message: "hi".into(),
                            count: 0,
                        }),
                        path,
                        tonic_prost::ProstCodec::default(),
                    )
                    .await;
            }
        })
        .await;
}

/// At most this many series of `rpc.server.call.duration` after the flood: the real method
/// with OK, and `_OTHER` with UNIMPLEMENTED.
const MAX_GRPC_SERIES: usize = 2;

fn assert_grpc_series(t: &TestTelemetry) {
    let metric = "rpc.server.call.duration";
    let total: u64 = t.histogram(metric).iter().map(|p| p.count).sum();
    assert_eq!(total, N as u64, "every call recorded once");
    let series = t.series(metric);
    assert!(
        series <= MAX_GRPC_SERIES,
        "{series} series: {:?}",
        points(t, metric)
    );
    let mut methods: Vec<_> = t
        .histogram(metric)
        .iter()
        .map(|p| {
            (
                p.attr(attribute::RPC_METHOD),
                p.attr(attribute::RPC_RESPONSE_STATUS_CODE),
                p.count,
            )
        })
        .collect();
    methods.sort();
    assert_eq!(
        methods,
        [
            (
                Some("_OTHER".to_owned()),
                Some("UNIMPLEMENTED".to_owned()),
                (N - N / 4) as u64
            ),
            (
                Some("echo.Echo/Say".to_owned()),
                Some("OK".to_owned()),
                (N / 4) as u64
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_server_flood_of_made_up_methods_keeps_series_bounded() {
    let t = TestTelemetry::new();
    let addr = serve_grpc(
        GrpcServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .build(),
    )
    .await;
    grpc_flood(addr).await;
    assert_grpc_series(&t);
    // Spans of made-up methods are named `grpc`, with the path kept as rpc.method_original.
    let unknown = t.spans_named("grpc");
    assert_eq!(unknown.len(), N - N / 4);
    assert!(unknown.iter().all(|s| {
        s.attributes
            .iter()
            .any(|kv| kv.key.as_str() == attribute::RPC_METHOD_ORIGINAL)
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_server_flood_with_a_served_list_keeps_series_bounded() {
    use tonic::server::NamedService;
    let t = TestTelemetry::new();
    let addr = serve_grpc(
        GrpcServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .services([EchoServer::<EchoService>::NAME])
            .build(),
    )
    .await;
    grpc_flood(addr).await;
    assert_grpc_series(&t);
}
