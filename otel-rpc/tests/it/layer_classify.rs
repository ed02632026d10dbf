//! User classification on every layer (`classify(..)` of the shared options vocabulary): a
//! rule flips what the conventions call an error to Unset and a success to Error, on spans
//! and on the duration metrics, against real axum / tonic servers.
#![cfg(all(feature = "grpc", feature = "axum"))]

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::InstrumentationOptions;
use otel_rpc::{GrpcClientLayer, GrpcServerLayer};
use otel_rpc::{HttpClientLayer, HttpServerLayer};
use otel_rpc::{Observed, Verdict};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};
use tonic::{Request, Response, Status};
use tower::{ServiceBuilder, ServiceExt};

mod proto {
    include!("../gen/echo.rs");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

/// 404 and 500 are expected here, a 200 is not.
fn http_rule(o: &Observed<'_>) -> Option<Verdict> {
    match o {
        Observed::Http { status: 404 | 500 } => Some(Verdict::NotError),
        Observed::Http { status: 200 } => Some(Verdict::Error),
        _ => None,
    }
}

/// NOT_FOUND and INTERNAL are expected here, OK is not.
fn grpc_rule(o: &Observed<'_>) -> Option<Verdict> {
    match o {
        Observed::Grpc { code: 5 | 13 } => Some(Verdict::NotError),
        Observed::Grpc { code: 0 } => Some(Verdict::Error),
        _ => None,
    }
}

fn by_kind(spans: &[ExportedSpan], kind: SpanKind, attr: &str, value: &str) -> ExportedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| {
            s.span_kind == kind && s.attr(attr).map(|v| v.to_string()).as_deref() == Some(value)
        })
        .cloned()
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind:?} span with {attr}={value}: {spans:?}"
    );
    found.into_iter().next().expect("one span")
}

/// `(status code, error.type)` of every point of `metric`, sorted.
fn metric_errors(
    t: &TestTelemetry,
    metric: &str,
    code_key: &str,
) -> Vec<(Option<String>, Option<String>)> {
    let mut points: Vec<_> = t
        .histogram(metric)
        .iter()
        .map(|p| (p.attr(code_key), p.attr(attribute::ERROR_TYPE)))
        .collect();
    points.sort();
    points
}

#[tokio::test]
async fn http_rules_flip_404_and_500_to_unset_and_200_to_error() {
    let t = TestTelemetry::new();
    let app = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .classify(http_rule)
                .build(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let client = ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .classify(http_rule)
                .build(),
        )
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    for (path, status) in [("/ok", 200), ("/missing", 404), ("/fail", 500)] {
        let request = http::Request::get(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = client.clone().oneshot(request).await.expect("response");
        assert_eq!(response.status().as_u16(), status);
        response.into_body().collect().await.expect("body");
    }
    let spans = t.spans();
    let url = |path: &str| format!("http://{addr}{path}");
    by_kind(&spans, SpanKind::Client, attribute::URL_FULL, &url("/ok"))
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "200");
    by_kind(
        &spans,
        SpanKind::Client,
        attribute::URL_FULL,
        &url("/missing"),
    )
    .assert_unset()
    .assert_no_attr(attribute::ERROR_TYPE);
    by_kind(&spans, SpanKind::Client, attribute::URL_FULL, &url("/fail"))
        .assert_unset()
        .assert_no_attr(attribute::ERROR_TYPE);
    t.span("GET /ok")
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "200")
        .assert_no_exception();
    t.span("GET /fail")
        .assert_unset()
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 500)
        .assert_no_attr(attribute::ERROR_TYPE);
    let code = attribute::HTTP_RESPONSE_STATUS_CODE;
    let expected = vec![
        (Some("200".to_owned()), Some("200".to_owned())),
        (Some("404".to_owned()), None),
        (Some("500".to_owned()), None),
    ];
    assert_eq!(
        metric_errors(&t, "http.client.request.duration", code),
        expected
    );
    assert_eq!(
        metric_errors(&t, "http.server.request.duration", code),
        expected
    );
}

struct EchoService;

#[tonic::async_trait]
impl Echo for EchoService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        match request.into_inner().message.as_str() {
            "not-found" => Err(Status::not_found("no such echo")),
            "internal" => Err(Status::internal("echo broke")),
            message => Ok(Response::new(EchoReply {
                message: message.to_owned(),
            })),
        }
    }

    type StreamStream =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<EchoReply, Status>> + Send>>;

    async fn stream(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Err(Status::unimplemented("no streams"))
    }
}

#[tokio::test]
async fn grpc_rules_flip_not_found_and_internal_to_unset_and_ok_to_error() {
    let t = TestTelemetry::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let layer = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .classify(grpc_rule)
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
                    .classify(grpc_rule)
                    .build(),
            )
            .service(channel),
    );
    for message in ["hi", "not-found", "internal"] {
        let _ = client
            .say(EchoRequest {
                message: message.into(),
                count: 0,
            })
            .await;
    }
    let spans = t.spans_named("echo.Echo/Say");
    let code = attribute::RPC_RESPONSE_STATUS_CODE;
    for kind in [SpanKind::Client, SpanKind::Server] {
        by_kind(&spans, kind.clone(), code, "OK")
            .assert_error()
            .assert_attr(attribute::ERROR_TYPE, "OK")
            .assert_no_exception();
        for unset in ["NOT_FOUND", "INTERNAL"] {
            by_kind(&spans, kind.clone(), code, unset)
                .assert_unset()
                .assert_no_attr(attribute::ERROR_TYPE);
        }
    }
    let expected = vec![
        (Some("INTERNAL".to_owned()), None),
        (Some("NOT_FOUND".to_owned()), None),
        (Some("OK".to_owned()), Some("OK".to_owned())),
    ];
    assert_eq!(
        metric_errors(&t, "rpc.client.call.duration", code),
        expected
    );
    assert_eq!(
        metric_errors(&t, "rpc.server.call.duration", code),
        expected
    );
}
