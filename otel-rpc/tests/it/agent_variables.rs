//! The agents' variables, read when a layer is built: known methods, header and metadata
//! capture, migration modes. Each case runs in a child process of this test binary with the
//! variables set (they are process-wide), where the builder's own word still wins.
#![cfg(all(feature = "http", feature = "axum"))]

use axum::Router;
use axum::routing::any;
use http_body_util::Full;
use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, StringValue, Value};
use otel_rpc::InstrumentationOptions;
use otel_rpc::KnownMethods;
use otel_testkit::{SpanAssert, TestTelemetry};

use crate::http_fixture::{client, client_builder, one_span, request, send, serve, server_builder};

const SECRET: &str = "envSecret-0c9d";

#[test]
fn the_agents_variables_configure_the_layers() {
    let exe = std::env::current_exe().expect("test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            concat!(module_path!(), "::child")
                .split_once("::")
                .map_or("child", |(_, path)| path),
            "--ignored",
            "--test-threads=1",
        ])
        .env("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "GET, PURGE")
        .env(
            "OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS",
            "X-Request-Id,authorization",
        )
        .env(
            "OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_RESPONSE_HEADERS",
            "x-served-by",
        )
        .env("OTEL_SEMCONV_STABILITY_OPT_IN", "http/dup")
        .env(
            "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_REQUEST",
            "x-tenant",
        )
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{stderr}"
    );
}

fn app(layer: otel_rpc::HttpServerLayer) -> Router {
    Router::new()
        .route("/h", any(|| async { ([("x-served-by", "node-1")], "ok") }))
        .layer(layer)
}

fn purge(addr: std::net::SocketAddr) -> http::Request<Full<bytes::Bytes>> {
    request("PURGE", addr, "/h")
        .header("x-request-id", "r-1")
        .header("authorization", format!("Bearer {SECRET}"))
        .body(Full::default())
        .expect("request")
}

#[tokio::test]
#[ignore = "run by the_agents_variables_configure_the_layers in a child process"]
async fn child() {
    // From the variables alone.
    let t = TestTelemetry::new();
    let addr = serve(app(server_builder(&t).build())).await;
    let traced = client(client_builder(&t).build());
    assert_eq!(send(&traced, purge(addr)).await.0, 200);
    let server = one_span(&t, SpanKind::Server);
    assert_eq!(server.name, "PURGE /h");
    server
        .assert_attr("http.method", "PURGE")
        .assert_attr(
            "http.request.header.x-request-id",
            Value::Array(Array::String(vec![StringValue::from("r-1")])),
        )
        .assert_attr(
            "http.response.header.x-served-by",
            Value::Array(Array::String(vec![StringValue::from("node-1")])),
        )
        .assert_no_attr("http.request.header.authorization");
    // The client layer's variables are not set: no capture there.
    assert!(
        one_span(&t, SpanKind::Client)
            .attributes
            .iter()
            .all(|kv| !kv.key.as_str().contains(".header."))
    );
    assert!(t.leaks(SECRET).is_empty());

    // The builder's word wins over each variable.
    let t = TestTelemetry::new();
    let layer = server_builder(&t)
        .known_methods(KnownMethods::conventions())
        .capture_request_headers(Vec::<String>::new())
        .semconv_stability(otel_rpc::SemconvStability::stable())
        .build();
    let addr = serve(app(layer)).await;
    assert_eq!(send(&traced, purge(addr)).await.0, 200);
    let server = one_span(&t, SpanKind::Server);
    assert_eq!(server.name, "_OTHER /h");
    server
        .assert_no_attr("http.request.header.x-request-id")
        .assert_no_attr("http.method")
        // Not replaced in code: still from the variable.
        .assert_attr(
            "http.response.header.x-served-by",
            Value::Array(Array::String(vec![StringValue::from("node-1")])),
        );

    #[cfg(feature = "grpc")]
    {
        use crate::http_fixture::{grpc_client, grpc_serve, grpc_server_builder, tenant_request};
        let t = TestTelemetry::new();
        let addr = grpc_serve(grpc_server_builder(&t).build()).await;
        let mut grpc = grpc_client(
            addr,
            otel_rpc::GrpcClientLayer::builder().enabled(false).build(),
        )
        .await;
        grpc.say(tenant_request(&[])).await.expect("say");
        one_span(&t, SpanKind::Server).assert_attr(
            "rpc.request.metadata.x-tenant",
            Value::Array(Array::String(vec![StringValue::from("acme")])),
        );
    }
}
