//! A panic while the response body is produced (a streamed HTTP body, a gRPC server stream)
//! ends the server span as a panic, as a panic in the handler does: `error.type` `panic`, the
//! fixed description, an exception, never the panic's text. Real axum and tonic servers.
#![cfg(all(feature = "axum", feature = "grpc"))]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::GrpcServerLayer;
use otel_rpc::HttpServerLayer;
use otel_testkit::{SpanAssert, TestTelemetry};

use crate::echo;

use echo::PANIC_TEXT;
use echo::proto::EchoRequest;
use echo::proto::echo_client::EchoClient;
use echo::proto::echo_server::EchoServer;

/// The server span named `name`, once it has ended (the panic unwinds in the server's task,
/// after the client already saw the broken stream).
async fn ended(t: &TestTelemetry, name: &str) -> SpanData {
    for _ in 0..300 {
        if let Some(span) = t.spans().into_iter().find(|s| s.name == name) {
            return span;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no span {name:?}: {}", otel_testkit::describe(&t.spans()));
}

fn assert_panic(t: &TestTelemetry, span: &SpanData, metric: &str) {
    span.assert_error()
        .assert_exception()
        .assert_attr(attribute::ERROR_TYPE, "panic");
    assert_eq!(span.status, Status::error("the handler panicked"));
    let points = t.histogram(metric);
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(
        points[0].attr(attribute::ERROR_TYPE).as_deref(),
        Some("panic")
    );
    let leaks = t.leaks("planted-secret-51c2");
    assert!(leaks.is_empty(), "panic text exported: {leaks:?}");
}

#[tokio::test]
async fn a_panic_in_a_streamed_http_body_is_a_panic() {
    let t = TestTelemetry::new();
    let app = Router::new()
        .route(
            "/stream",
            get(|| async {
                let chunks = futures_util::stream::unfold(0u32, |i| async move {
                    if i == 1 {
                        // After the first chunk went out: the body is under way.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        panic!("{PANIC_TEXT}");
                    }
                    Some((Ok::<_, std::io::Error>(Bytes::from_static(b"chunk")), i + 1))
                });
                Body::from_stream(chunks)
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
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });

    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client
        .get(format!("http://{addr}/stream").parse().expect("uri"))
        .await
        .expect("response head");
    assert_eq!(response.status(), 200);
    assert!(
        response.into_body().collect().await.is_err(),
        "the body breaks off"
    );
    let server = ended(&t, "GET /stream").await;
    assert_panic(&t, &server, "http.server.request.duration");
}

#[tokio::test]
async fn a_panic_in_a_grpc_server_stream_is_a_panic() {
    let t = TestTelemetry::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(echo::Service))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    let mut client = EchoClient::connect(format!("http://{addr}"))
        .await
        .expect("connect");
    let mut stream = client
        .stream(EchoRequest {
            message: "panic".to_owned(),
            count: 0,
        })
        .await
        .expect("stream")
        .into_inner();
    let first = stream.next().await.expect("first reply");
    assert_eq!(first.expect("reply").message, "reply 0");
    let next = stream.next().await;
    assert!(
        matches!(next, Some(Err(_)) | None),
        "the stream breaks off: {next:?}"
    );
    let server = ended(&t, "echo.Echo/Stream").await;
    assert_panic(&t, &server, "rpc.server.call.duration");
}
