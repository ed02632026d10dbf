//! Header and metadata capture by allow-list: HTTP server and client (real axum server, real
//! hyper client) and gRPC server and client (real tonic server and channel). Named headers
//! become string-array span attributes, capped; credentials are refused unless the second
//! switch is on; nothing captured reaches a metric (secret scan over everything exported).
#![cfg(all(feature = "http", feature = "axum"))]

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::Full;
use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, StringValue, Value};
use otel_testkit::{SpanAssert, TestTelemetry};

use crate::http_fixture::{
    client, client_builder, one_span as one, request, send, serve, server_builder,
};

const SECRET: &str = "planted-secret-7f3e";

fn strings(values: &[&str]) -> Value {
    Value::Array(Array::String(
        values
            .iter()
            .map(|v| StringValue::from(v.to_string()))
            .collect(),
    ))
}

/// No exported metric point carries a captured header key.
fn no_header_on_metrics(t: &TestTelemetry, metrics: &[&str]) {
    for metric in metrics {
        let points = t.histogram(metric);
        assert!(!points.is_empty(), "{metric} recorded");
        for p in points {
            for kv in &p.attributes {
                let key = kv.key.as_str();
                assert!(
                    !key.contains(".header.") && !key.contains(".metadata."),
                    "{metric} carries {key}"
                );
            }
        }
    }
}

fn app(t: &TestTelemetry, sensitive: bool) -> Router {
    let names = [
        "X-Request-Id",
        "authorization",
        "cookie",
        "x-api-key",
        "x-long",
    ];
    Router::new()
        .route(
            "/h",
            get(|| async {
                (
                    [
                        ("x-served-by", "node-1".to_owned()),
                        ("set-cookie", format!("session={SECRET}")),
                    ],
                    "ok",
                )
            }),
        )
        .layer(
            server_builder(t)
                .capture_request_headers(names)
                .capture_response_headers(["X-Served-By", "set-cookie"])
                .capture_sensitive_headers(sensitive)
                .build(),
        )
}

fn hostile_request(addr: std::net::SocketAddr) -> http::Request<Full<Bytes>> {
    request("GET", addr, "/h")
        .header("x-request-id", "req-1")
        .header("x-request-id", "req-2")
        .header("authorization", format!("Bearer {SECRET}"))
        .header("cookie", format!("sid={SECRET}"))
        .header("x-api-key", SECRET)
        .header("x-long", "v".repeat(1000))
        .header("x-not-named", SECRET)
        .body(Full::default())
        .expect("request")
}

#[tokio::test]
async fn http_named_headers_are_captured_and_credentials_refused() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, false)).await;
    let traced = client(
        client_builder(&t)
            .capture_request_headers(["x-request-id", "authorization"])
            .capture_response_headers(["x-served-by", "Set-Cookie"])
            .build(),
    );
    assert_eq!(send(&traced, hostile_request(addr)).await.0, 200);

    let server = one(&t, SpanKind::Server);
    server
        .assert_attr(
            "http.request.header.x-request-id",
            strings(&["req-1", "req-2"]),
        )
        .assert_attr("http.response.header.x-served-by", strings(&["node-1"]))
        .assert_no_attr("http.request.header.authorization")
        .assert_no_attr("http.request.header.cookie")
        .assert_no_attr("http.request.header.x-api-key")
        .assert_no_attr("http.request.header.x-not-named")
        .assert_no_attr("http.response.header.set-cookie");
    let Some(Value::Array(Array::String(long))) = server.attr("http.request.header.x-long") else {
        panic!("x-long captured: {server:?}");
    };
    assert!(
        long[0].as_str().len() <= 256,
        "capped: {}",
        long[0].as_str().len()
    );
    let client_span = one(&t, SpanKind::Client);
    client_span
        .assert_attr(
            "http.request.header.x-request-id",
            strings(&["req-1", "req-2"]),
        )
        .assert_attr("http.response.header.x-served-by", strings(&["node-1"]))
        .assert_no_attr("http.request.header.authorization")
        .assert_no_attr("http.response.header.set-cookie");

    let leaks = t.leaks(SECRET);
    assert!(leaks.is_empty(), "{leaks:#?}");
    no_header_on_metrics(
        &t,
        &[
            "http.server.request.duration",
            "http.client.request.duration",
        ],
    );
}

#[tokio::test]
async fn credentials_need_the_second_switch_and_stay_off_the_metric() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, true)).await;
    let traced = client(client_builder(&t).build());
    assert_eq!(send(&traced, hostile_request(addr)).await.0, 200);
    let server = one(&t, SpanKind::Server);
    server
        .assert_attr(
            "http.request.header.authorization",
            strings(&[&format!("Bearer {SECRET}")]),
        )
        .assert_attr("http.request.header.x-api-key", strings(&[SECRET]))
        .assert_attr(
            "http.response.header.set-cookie",
            strings(&[&format!("session={SECRET}")]),
        );
    // The client layer named nothing: no header of its own.
    assert!(
        one(&t, SpanKind::Client)
            .attributes
            .iter()
            .all(|kv| !kv.key.as_str().contains(".header."))
    );
    // Opted in, the secret is on the server span, and only there: never on a metric.
    let leaks = t.leaks(SECRET);
    assert!(!leaks.is_empty());
    assert!(leaks.iter().all(|l| l.starts_with("span ")), "{leaks:#?}");
    no_header_on_metrics(&t, &["http.server.request.duration"]);
}

#[cfg(feature = "grpc")]
mod grpc {
    use opentelemetry::trace::SpanKind;
    use otel_testkit::{SpanAssert, TestTelemetry};

    use super::{SECRET, no_header_on_metrics, strings};
    use crate::http_fixture::{
        grpc_client, grpc_client_builder, grpc_serve, grpc_server_builder, one_span as one,
        tenant_request,
    };

    #[tokio::test]
    async fn grpc_metadata_is_captured_by_name() {
        let t = TestTelemetry::new();
        let addr = grpc_serve(
            grpc_server_builder(&t)
                .capture_request_headers(["x-tenant", "authorization"])
                .capture_response_headers(["content-type"])
                .build(),
        )
        .await;
        let mut client = grpc_client(
            addr,
            grpc_client_builder(&t)
                .capture_request_headers(["X-Tenant", "authorization"])
                .capture_response_headers(["content-type"])
                .build(),
        )
        .await;
        let request = tenant_request(&[("authorization", format!("Bearer {SECRET}"))]);
        client.say(request).await.expect("say");

        for kind in [SpanKind::Server, SpanKind::Client] {
            one(&t, kind)
                .assert_attr("rpc.request.metadata.x-tenant", strings(&["acme"]))
                .assert_attr(
                    "rpc.response.metadata.content-type",
                    strings(&["application/grpc"]),
                )
                .assert_no_attr("rpc.request.metadata.authorization");
        }
        let leaks = t.leaks(SECRET);
        assert!(leaks.is_empty(), "{leaks:#?}");
        no_header_on_metrics(
            &t,
            &["rpc.server.call.duration", "rpc.client.call.duration"],
        );
    }
}
