//! `http/dup` and `rpc/dup` through the layers (real axum server and hyper client, real tonic
//! server and channel): the previous names beside the current ones, copies of the redacted
//! values (a secret planted in the query string reaches neither), none on the metrics, and
//! none without the mode.
#![cfg(all(feature = "http", feature = "axum"))]

use axum::Router;
use axum::routing::get;
use http_body_util::Full;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute as a;
use otel_rpc::options::InstrumentationOptions;
use otel_rpc::semconv_mode::SemconvStability;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};

use crate::http_fixture::{client, client_builder, request, send, serve, server_builder};

const SECRET: &str = "dupSecret-a41f";

fn one(t: &TestTelemetry, kind: SpanKind) -> ExportedSpan {
    let mut spans: Vec<_> = t
        .spans()
        .into_iter()
        .filter(|s| s.span_kind == kind)
        .collect();
    assert_eq!(spans.len(), 1, "one {kind:?} span expected: {spans:?}");
    spans.remove(0)
}

fn copied(span: &ExportedSpan, new: &str, old: &str) {
    let value = span
        .attr(new)
        .unwrap_or_else(|| panic!("{new} on {}: {span:?}", span.name));
    span.assert_attr(old, value.clone());
}

async fn http_round_trip(t: &TestTelemetry, mode: SemconvStability) {
    let app = Router::new()
        .route("/items/{id}", get(|| async { "ok" }))
        .layer(server_builder(t).semconv_stability(mode).build());
    let addr = serve(app).await;
    let traced = client(client_builder(t).semconv_stability(mode).build());
    let req = request("GET", addr, &format!("/items/7?token={SECRET}"))
        .header("user-agent", "dup-test/1")
        .body(Full::default())
        .expect("request");
    assert_eq!(send(&traced, req).await.0, 200);
}

#[tokio::test]
async fn http_dup_adds_the_previous_names() {
    let t = TestTelemetry::new();
    http_round_trip(&t, SemconvStability::parse("http/dup")).await;

    let server = one(&t, SpanKind::Server);
    for (new, old) in [
        (a::HTTP_REQUEST_METHOD, "http.method"),
        (a::HTTP_RESPONSE_STATUS_CODE, "http.status_code"),
        (a::URL_SCHEME, "http.scheme"),
        (a::USER_AGENT_ORIGINAL, "http.user_agent"),
        (a::SERVER_ADDRESS, "net.host.name"),
        (a::SERVER_PORT, "net.host.port"),
        (a::CLIENT_ADDRESS, "http.client_ip"),
        (a::NETWORK_PROTOCOL_VERSION, "net.protocol.version"),
    ] {
        copied(&server, new, old);
    }
    server.assert_attr("http.target", "/items/7?token=REDACTED");
    let client_span = one(&t, SpanKind::Client);
    for (new, old) in [
        (a::HTTP_REQUEST_METHOD, "http.method"),
        (a::HTTP_RESPONSE_STATUS_CODE, "http.status_code"),
        (a::URL_FULL, "http.url"),
        (a::SERVER_ADDRESS, "net.peer.name"),
        (a::SERVER_PORT, "net.peer.port"),
    ] {
        copied(&client_span, new, old);
    }
    let leaks = t.leaks(SECRET);
    assert!(leaks.is_empty(), "{leaks:#?}");
    for metric in [
        "http.server.request.duration",
        "http.client.request.duration",
    ] {
        let points = t.histogram(metric);
        assert!(!points.is_empty());
        for p in points {
            assert!(p.attr("http.method").is_none() && p.attr("http.status_code").is_none());
        }
    }
}

#[tokio::test]
async fn no_previous_name_without_the_mode() {
    let t = TestTelemetry::new();
    http_round_trip(&t, SemconvStability::parse("http,database/dup,rpc/dup")).await;
    for kind in [SpanKind::Server, SpanKind::Client] {
        let span = one(&t, kind);
        for old in [
            "http.method",
            "http.status_code",
            "http.url",
            "http.target",
            "net.peer.name",
            "net.host.name",
        ] {
            span.assert_no_attr(old);
        }
    }
}

#[cfg(feature = "grpc")]
mod grpc {
    use opentelemetry::trace::SpanKind;
    use opentelemetry_semantic_conventions::attribute as a;
    use otel_rpc::grpc::{GrpcClientLayer, GrpcServerLayer};
    use otel_rpc::options::InstrumentationOptions;
    use otel_rpc::semconv_mode::SemconvStability;
    use otel_testkit::{SpanAssert, TestTelemetry};
    use tower::ServiceBuilder;

    use super::{copied, one};
    use crate::echo;
    use echo::proto::EchoRequest;
    use echo::proto::echo_client::EchoClient;
    use echo::proto::echo_server::EchoServer;

    #[tokio::test]
    async fn rpc_dup_adds_the_previous_names() {
        let t = TestTelemetry::new();
        let mode = SemconvStability::stable().with_rpc_dup(true);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let layer = GrpcServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .semconv_stability(mode)
            .capture_request_headers(["x-tenant"])
            .build();
        tokio::spawn(async move {
            tonic::transport::Server::builder()
                .layer(layer)
                .add_service(EchoServer::new(echo::Service))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await
                .expect("serve");
        });
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
                    .semconv_stability(mode)
                    .build(),
            )
            .service(channel);
        let mut request = tonic::Request::new(EchoRequest {
            message: "hi".into(),
            count: 0,
        });
        request
            .metadata_mut()
            .insert("x-tenant", "acme".parse().expect("ascii"));
        EchoClient::new(channel).say(request).await.expect("say");

        for kind in [SpanKind::Server, SpanKind::Client] {
            let span = one(&t, kind);
            copied(&span, a::RPC_SYSTEM_NAME, "rpc.system");
            span.assert_attr("rpc.service", "echo.Echo")
                .assert_attr(a::RPC_METHOD, "echo.Echo/Say")
                .assert_attr("rpc.grpc.status_code", 0_i64);
        }
        let server = one(&t, SpanKind::Server);
        copied(
            &server,
            "rpc.request.metadata.x-tenant",
            "rpc.grpc.request.metadata.x-tenant",
        );
        for p in t.histogram("rpc.server.call.duration") {
            assert!(p.attr("rpc.system").is_none() && p.attr("rpc.grpc.status_code").is_none());
        }
    }
}
