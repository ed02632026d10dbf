//! Peer and application text never reaches telemetry by default: gRPC status messages (client
//! and server spans), handler panic messages, service error text. Response codes are not
//! exceptions; panics and service errors are. With `error_text(Scrubbed)` the text is recorded
//! scrubbed.
#![cfg(all(feature = "grpc", feature = "axum"))]

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::ErrorTextMode;
use otel_rpc::HttpServerLayer;
use otel_rpc::InstrumentationOptions;
use otel_rpc::{GrpcClientLayer, GrpcServerLayer};
use otel_testkit::{SpanAssert, TestTelemetry};
use tonic::{Request, Response, Status};
use tower::{Layer, ServiceBuilder, ServiceExt};

mod proto {
    include!("../gen/echo.rs");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

/// A value a handler puts in its error text; digit-bearing so the scrubber removes it too.
const SECRET: &str = "tok3n-55aa";

struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        match request.into_inner().message.as_str() {
            "not-found" => Err(Status::not_found(format!("unknown key {SECRET}"))),
            "internal" => Err(Status::internal(format!("db said: bad \"{SECRET}\""))),
            _ => Err(Status::unavailable(format!("upstream {SECRET} down"))),
        }
    }

    type StreamStream =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<EchoReply, Status>> + Send>>;

    async fn stream(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Err(Status::unimplemented(format!("stream {SECRET}")))
    }
}

/// Three failing calls through a traced client to a traced server, both with `mode`.
async fn grpc_calls(t: &TestTelemetry, mode: ErrorTextMode) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .error_text(mode)
        // Failing calls teach the learned set nothing (see GrpcServerLayer), so the methods
        // these tests only ever fail are listed.
        .methods(["echo.Echo/Say", "echo.Echo/Stream"])
        .build();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = EchoClient::new(
        ServiceBuilder::new()
            .layer(
                GrpcClientLayer::builder()
                    .tracer_provider(t.tracer_provider.clone())
                    .meter_provider(t.meter_provider.clone())
                    .error_text(mode)
                    .build(),
            )
            .service(channel),
    );
    for message in ["not-found", "internal", "unavailable"] {
        let status = client
            .say(EchoRequest {
                message: message.into(),
                count: 0,
            })
            .await
            .expect_err("fails");
        assert!(status.message().contains(SECRET), "the app does see it");
    }
}

#[tokio::test]
async fn grpc_status_messages_are_never_recorded_and_are_not_exceptions() {
    let t = TestTelemetry::new();
    grpc_calls(&t, ErrorTextMode::Off).await;
    let spans = t.spans_named("echo.Echo/Say");
    assert_eq!(spans.len(), 6, "client and server span per call");
    assert!(t.leaks(SECRET).is_empty(), "{:?}", t.leaks(SECRET));
    assert!(
        t.leaks("unknown key").is_empty(),
        "{:?}",
        t.leaks("unknown key")
    );
    for span in &spans {
        span.assert_no_exception();
        if span.span_kind == SpanKind::Client {
            span.assert_error();
        }
        if let opentelemetry::trace::Status::Error { description } = &span.status {
            assert!(description.is_empty(), "{description}");
        }
    }
}

#[tokio::test]
async fn grpc_status_messages_opt_in_are_scrubbed() {
    let t = TestTelemetry::new();
    grpc_calls(&t, ErrorTextMode::Scrubbed).await;
    assert!(t.leaks(SECRET).is_empty(), "{:?}", t.leaks(SECRET));
    // The prose around the value is kept on the error spans.
    let described: Vec<String> = t
        .spans_named("echo.Echo/Say")
        .iter()
        .filter_map(|s| match &s.status {
            opentelemetry::trace::Status::Error { description } => Some(description.to_string()),
            _ => None,
        })
        .collect();
    assert!(
        described.iter().any(|d| d.contains("unknown key")),
        "{described:?}"
    );
    assert!(
        described.iter().any(|d| d.contains("upstream")),
        "{described:?}"
    );
}

async fn panicking_server(t: &TestTelemetry, mode: ErrorTextMode) -> SocketAddr {
    let app = Router::new()
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("token {SECRET} failed");
                }
                "unreachable"
            }),
        )
        .route(
            "/fail",
            get(|| async { (http::StatusCode::BAD_GATEWAY, SECRET) }),
        )
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .error_text(mode)
                .build(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

async fn get_path(addr: SocketAddr, path: &str) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let request = http::Request::get(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let _ = client.request(request).await;
}

#[tokio::test]
async fn panic_text_is_never_recorded_and_a_5xx_is_no_exception() {
    let t = TestTelemetry::new();
    let addr = panicking_server(&t, ErrorTextMode::Off).await;
    get_path(addr, "/panic").await;
    get_path(addr, "/fail").await;
    t.span("GET /panic")
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "panic")
        .assert_exception();
    t.span("GET /fail")
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "502")
        .assert_no_exception();
    assert!(t.leaks(SECRET).is_empty(), "{:?}", t.leaks(SECRET));
    assert!(t.leaks("failed").is_empty(), "{:?}", t.leaks("failed"));
}

#[tokio::test]
async fn panic_text_opt_in_is_scrubbed() {
    let t = TestTelemetry::new();
    let addr = panicking_server(&t, ErrorTextMode::Scrubbed).await;
    get_path(addr, "/panic").await;
    let span = t.span("GET /panic");
    span.assert_exception();
    match &span.status {
        opentelemetry::trace::Status::Error { description } => {
            assert!(description.contains("token"), "{description}");
            assert!(!description.contains(SECRET), "{description}");
        }
        other => panic!("status {other:?}"),
    }
    assert!(t.leaks(SECRET).is_empty(), "{:?}", t.leaks(SECRET));
}

#[tokio::test]
async fn service_error_text_is_never_recorded_and_error_type_is_stable() {
    let t = TestTelemetry::new();
    let layer = HttpServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    // A handler service that fails instead of answering.
    let service = layer.layer(tower::service_fn(
        |_req: http::Request<Full<Bytes>>| async {
            Err::<http::Response<Full<Bytes>>, _>(std::io::Error::other(format!("lost {SECRET}")))
        },
    ));
    let request = http::Request::get("http://127.0.0.1/x")
        .body(Full::new(Bytes::new()))
        .expect("request");
    let error = service.oneshot(request).await.expect_err("fails");
    assert!(error.to_string().contains(SECRET));
    t.span("GET")
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "_OTHER")
        .assert_exception();
    assert!(t.leaks(SECRET).is_empty(), "{:?}", t.leaks(SECRET));
    assert!(t.leaks("io::").is_empty(), "{:?}", t.leaks("io::"));
}
