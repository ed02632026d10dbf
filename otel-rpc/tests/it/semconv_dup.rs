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
use otel_rpc::InstrumentationOptions;
use otel_rpc::SemconvStability;
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};

use crate::http_fixture::{
    client, client_builder, one_span as one, request, send, serve, server_builder,
};

const SECRET: &str = "dupSecret-a41f";

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
    use otel_rpc::InstrumentationOptions;
    use otel_rpc::SemconvStability;
    use otel_testkit::{SpanAssert, TestTelemetry};

    use super::copied;
    use crate::http_fixture::{
        grpc_client, grpc_client_builder, grpc_serve, grpc_server_builder, one_span as one,
        tenant_request,
    };

    #[tokio::test]
    async fn rpc_dup_adds_the_previous_names() {
        let t = TestTelemetry::new();
        let mode = SemconvStability::stable().with_rpc_dup(true);
        let addr = grpc_serve(
            grpc_server_builder(&t)
                .semconv_stability(mode)
                .capture_request_headers(["x-tenant"])
                .build(),
        )
        .await;
        let mut client = grpc_client(
            addr,
            grpc_client_builder(&t).semconv_stability(mode).build(),
        )
        .await;
        client.say(tenant_request(&[])).await.expect("say");

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
