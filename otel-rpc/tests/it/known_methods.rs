//! Known HTTP methods: the conventions' set (with `QUERY`), a custom set that keeps a custom
//! method, and unknown methods recorded as `_OTHER` with the capped original.
#![cfg(all(feature = "http", feature = "axum"))]

use axum::Router;
use axum::routing::any;
use bytes::Bytes;
use http_body_util::Full;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::KnownMethods;
use otel_testkit::{SpanAssert, TestTelemetry};

use crate::http_fixture::{
    client, client_builder, one_span as one, request, send, serve, server_builder,
};

fn app(t: &TestTelemetry, methods: Option<KnownMethods>) -> Router {
    let mut layer = server_builder(t);
    if let Some(methods) = methods {
        layer = layer.known_methods(methods);
    }
    Router::new()
        .route("/items/{id}", any(|| async { "ok" }))
        .layer(layer.build())
}

#[tokio::test]
async fn query_is_known_by_default() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Some(KnownMethods::conventions()))).await;
    let traced = client(
        client_builder(&t)
            .known_methods(KnownMethods::conventions())
            .build(),
    );
    let req = request("QUERY", addr, "/items/1")
        .body(Full::new(Bytes::from_static(b"select")))
        .expect("request");
    assert_eq!(send(&traced, req).await.0, 200);
    let server = one(&t, SpanKind::Server);
    assert_eq!(server.name, "QUERY /items/{id}");
    server
        .assert_attr(attribute::HTTP_REQUEST_METHOD, "QUERY")
        .assert_no_attr(attribute::HTTP_REQUEST_METHOD_ORIGINAL);
    let client_span = one(&t, SpanKind::Client);
    assert_eq!(client_span.name, "QUERY");
    client_span.assert_no_attr(attribute::HTTP_REQUEST_METHOD_ORIGINAL);
}

#[tokio::test]
async fn a_custom_method_is_kept_and_an_unknown_one_is_other() {
    let t = TestTelemetry::new();
    let methods = KnownMethods::new(["GET", "PURGE"]);
    let addr = serve(app(&t, Some(methods.clone()))).await;
    let traced = client(client_builder(&t).known_methods(methods).build());

    let purge = request("PURGE", addr, "/items/1")
        .body(Full::default())
        .expect("request");
    assert_eq!(send(&traced, purge).await.0, 200);
    let server = one(&t, SpanKind::Server);
    assert_eq!(server.name, "PURGE /items/{id}");
    server
        .assert_attr(attribute::HTTP_REQUEST_METHOD, "PURGE")
        .assert_no_attr(attribute::HTTP_REQUEST_METHOD_ORIGINAL);
    let client_span = one(&t, SpanKind::Client);
    assert_eq!(client_span.name, "PURGE");
    client_span.assert_attr(attribute::HTTP_REQUEST_METHOD, "PURGE");
    let points = t.histogram("http.server.request.duration");
    assert!(
        points
            .iter()
            .any(|p| p.attr(attribute::HTTP_REQUEST_METHOD).as_deref() == Some("PURGE")),
        "{points:?}"
    );
    t.reset();

    // POST is a valid method but not in this (replacing) set; a long made-up one is capped.
    let long = format!("X{}", "Y".repeat(200));
    for method in ["POST", long.as_str()] {
        let req = request(method, addr, "/items/2")
            .body(Full::default())
            .expect("request");
        assert_eq!(send(&traced, req).await.0, 200);
    }
    let servers: Vec<_> = t
        .spans()
        .into_iter()
        .filter(|s| s.span_kind == SpanKind::Server)
        .collect();
    assert_eq!(servers.len(), 2);
    for span in &servers {
        assert_eq!(span.name, "_OTHER /items/{id}");
        span.assert_attr(attribute::HTTP_REQUEST_METHOD, "_OTHER");
        let original = span
            .attr(attribute::HTTP_REQUEST_METHOD_ORIGINAL)
            .expect("method_original")
            .to_string();
        assert!(
            original == "POST" || original.starts_with("XYYY"),
            "{original}"
        );
        assert!(original.len() <= 64, "capped: {} bytes", original.len());
    }
    // The metrics are cumulative: the PURGE point from before plus one `_OTHER` point of 2.
    for metric in [
        "http.server.request.duration",
        "http.client.request.duration",
    ] {
        let methods: Vec<_> = t
            .histogram(metric)
            .iter()
            .map(|p| (p.attr(attribute::HTTP_REQUEST_METHOD), p.count))
            .collect();
        assert_eq!(methods.len(), 2, "{metric}: {methods:?}");
        assert!(
            methods.contains(&(Some("_OTHER".into()), 2)),
            "{metric}: {methods:?}"
        );
    }
    assert!(
        t.leaks("YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY")
            .is_empty()
    );
}
