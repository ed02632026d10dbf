//! Floods of hostile requests against the HTTP and gRPC server layers (real axum / tonic
//! servers on loopback): whatever the client varies, the duration metrics keep a small,
//! fixed number of series, and the heap held after the flood stays where it was before it.
//!
//! Heap is counted by the test kit's counting global allocator (every Rust allocation of this
//! binary: layers, servers, clients, tokio, SDK), so the tests take [`SERIAL`] and run one at
//! a time.
#![cfg(all(feature = "grpc", feature = "axum"))]

use otel_rpc::InstrumentationOptions;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Range;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::GrpcServerLayer;
use otel_rpc::HttpServerLayer;
use otel_testkit::heap::CountingAllocator;
use otel_testkit::{ExportedSpan, TestTelemetry};
use tonic::{Request, Response, Status};

mod proto {
    include!("gen/echo.rs");
}

use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

#[global_allocator]
static HEAP: CountingAllocator = CountingAllocator::new();

/// One flood (and heap measurement) at a time in this binary.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Requests (or calls) per flood.
const N: usize = 10_000;
/// Requests of the flood's shapes sent before the heap is read the first time: connection
/// handling, the in-memory exporters' buffers and the series exist before the flood.
const WARMUP: usize = 500;
/// Requests recorded in all (warm-up and flood).
const TOTAL: usize = WARMUP + N;
/// The flood runs in chunks of this many; each chunk's spans are checked and forgotten, so the
/// in-memory span exporter never holds more than after the warm-up (its buffer keeps its
/// capacity, which is the test's, not the layer's).
const CHUNK: usize = 500;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;
/// Bound on the live heap after the flood minus the live heap before it, both read with no
/// request in flight, no connection open and the exporters flushed and emptied: the layer may
/// hold its bounded state (series, admitted values), nothing per request. Measured: see
/// RELIABILITY.md (0 to 17 KB); 10,000 requests retaining 64 B each (640 KB) would exceed it.
const MAX_HEAP_GROWTH: i64 = 512 * 1024;

/// Waits (at most 10 s) until `expected` spans were exported since the last call, lets the
/// servers finish the connections the clients closed, flushes the meter, and returns the spans
/// after forgetting everything the exporters hold.
async fn settle(t: &TestTelemetry, expected: usize) -> Vec<ExportedSpan> {
    for _ in 0..1_000 {
        if t.spans().len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let spans = t.spans();
    let _ = t.meter_provider.force_flush();
    t.reset();
    spans
}

/// The warm-up, then the flood in chunks of [`CHUNK`]: `send(range)` sends the requests of
/// `range` (each producing one server span) and returns when all are answered; `check` sees
/// every span. Asserts the live heap after the flood minus before it stays under
/// [`MAX_HEAP_GROWTH`].
async fn flood<F: Future<Output = ()>>(
    t: &TestTelemetry,
    what: &str,
    mut send: impl FnMut(Range<usize>) -> F,
    mut check: impl FnMut(&[ExportedSpan]),
) {
    send(0..WARMUP).await;
    check(&settle(t, WARMUP).await);
    let before = HEAP.live();
    for start in (WARMUP..TOTAL).step_by(CHUNK) {
        send(start..start + CHUNK).await;
        check(&settle(t, CHUNK).await);
    }
    let growth = HEAP.since(before);
    eprintln!(
        "{what}: {N} hostile requests after {WARMUP} of warm-up: live heap after the flood \
         {growth} bytes from the level before it"
    );
    assert!(
        growth < MAX_HEAP_GROWTH,
        "{what}: heap held after the flood grew by {growth} bytes"
    );
}

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

/// An axum server behind `layer`, flooded (see [`flood`]) with hostile requests.
async fn http_flood(
    t: &TestTelemetry,
    what: &str,
    layer: HttpServerLayer,
    check: impl FnMut(&[ExportedSpan]),
) {
    let addr = serve_http(
        Router::new()
            .route("/users/{id}", get(|| async { "user" }))
            .layer(layer),
    )
    .await;
    flood(t, what, |range| http_requests(addr, range), check).await;
}

/// Sends the hostile requests of `range` from a new client (dropped, so its connections
/// close, at the end).
async fn http_requests(addr: SocketAddr, range: Range<usize>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    futures_util::stream::iter(range)
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
    let _serial = SERIAL.lock().await;
    let t = TestTelemetry::new();
    let mut spans = 0;
    http_flood(
        &t,
        "HTTP server flood",
        HttpServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .build(),
        // The spans carry a server.address only when it has a host's shape and length.
        |chunk| {
            spans += chunk.len();
            for span in chunk {
                if let Some(host) = span
                    .attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == attribute::SERVER_ADDRESS)
                {
                    let host = host.value.as_str();
                    assert!(host.len() <= 253 && !host.contains('"'), "{host}");
                }
            }
        },
    )
    .await;
    assert_eq!(spans, TOTAL, "one span per request");
    let metric = "http.server.request.duration";
    let total: u64 = t.histogram(metric).iter().map(|p| p.count).sum();
    assert_eq!(total, TOTAL as u64, "every request recorded once");
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
}

/// With the opt-in server address: at most 16 distinct addresses plus `_OTHER`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_server_flood_with_server_address_opt_in_stays_bounded() {
    let _serial = SERIAL.lock().await;
    let t = TestTelemetry::new();
    http_flood(
        &t,
        "HTTP server flood, server.address opt-in",
        HttpServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .metric_server_address(true)
            .build(),
        |_| {},
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
        addresses.len() <= otel_rpc::testing::MAX_METRIC_SERVER_ADDRESSES + 1,
        "{addresses:?}"
    );
    let series = t.series(metric);
    assert!(
        series <= MAX_HTTP_SERIES * (otel_rpc::testing::MAX_METRIC_SERVER_ADDRESSES + 1),
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

/// Floods (see [`flood`]) the server at `addr` with calls of made-up methods.
async fn grpc_flood(
    t: &TestTelemetry,
    what: &str,
    addr: SocketAddr,
    check: impl FnMut(&[ExportedSpan]),
) {
    flood(t, what, |range| grpc_calls(addr, range), check).await;
}

/// Makes the calls of `range` through a new uninstrumented tonic channel (dropped at the end):
/// every fourth one the real `Say`, the others made-up methods of made-up services and of the
/// real one.
async fn grpc_calls(addr: SocketAddr, range: Range<usize>) {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    futures_util::stream::iter(range)
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
    assert_eq!(total, TOTAL as u64, "every call recorded once");
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
                (TOTAL - TOTAL / 4) as u64
            ),
            (
                Some("echo.Echo/Say".to_owned()),
                Some("OK".to_owned()),
                (TOTAL / 4) as u64
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_server_flood_of_made_up_methods_keeps_series_bounded() {
    let _serial = SERIAL.lock().await;
    let t = TestTelemetry::new();
    let addr = serve_grpc(
        GrpcServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .build(),
    )
    .await;
    // Spans of made-up methods are named `grpc`, with the path kept as rpc.method_original.
    let (mut unknown, mut with_original) = (0, 0);
    grpc_flood(&t, "gRPC server flood", addr, |chunk| {
        for s in chunk.iter().filter(|s| s.name == "grpc") {
            unknown += 1;
            if s.attributes
                .iter()
                .any(|kv| kv.key.as_str() == attribute::RPC_METHOD_ORIGINAL)
            {
                with_original += 1;
            }
        }
    })
    .await;
    assert_grpc_series(&t);
    assert_eq!(unknown, TOTAL - TOTAL / 4);
    assert_eq!(with_original, unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_server_flood_with_a_served_list_keeps_series_bounded() {
    use tonic::server::NamedService;
    let _serial = SERIAL.lock().await;
    let t = TestTelemetry::new();
    let addr = serve_grpc(
        GrpcServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .services([EchoServer::<EchoService>::NAME])
            .build(),
    )
    .await;
    grpc_flood(&t, "gRPC server flood, services list", addr, |_| {}).await;
    assert_grpc_series(&t);
}
