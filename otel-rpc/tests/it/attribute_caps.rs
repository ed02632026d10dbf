//! Every span attribute is capped by one rule (`otel-rpc/src/untrusted.rs`'s cap table), whatever
//! the client sends: requests with a 60 KB path or query (near the `http` crate's URI limit)
//! and a 300 KB user agent or method, each with a planted secret at its end, through the
//! traced hyper client and the traced axum server. Bare query tokens are redacted too.
#![cfg(all(feature = "http", feature = "axum"))]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::any;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{HttpClientLayer, HttpClientService, HttpServerLayer};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};
use tower::{ServiceBuilder, ServiceExt};

const SECRET: &str = "planted-secret-7f3c9a";

/// The caps the untrusted module documents for the keys these requests fill.
const CAPS: &[(&str, usize)] = &[
    (attribute::URL_FULL, 2048),
    (attribute::URL_PATH, 1024),
    (attribute::URL_QUERY, 1024),
    (attribute::USER_AGENT_ORIGINAL, 512),
    (attribute::HTTP_REQUEST_METHOD_ORIGINAL, 64),
    (attribute::HTTP_ROUTE, 512),
];
/// Any other string attribute.
const DEFAULT_CAP: usize = 1024;

type TracedClient = HttpClientService<Client<HttpConnector, Full<Bytes>>>;

async fn setup(t: &TestTelemetry) -> (SocketAddr, TracedClient) {
    let app = Router::new()
        .route("/{*rest}", any(|| async { "ok" }))
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let client = ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        )
        .service(Client::builder(TokioExecutor::new()).build_http());
    (addr, client)
}

/// Sends one request; returns the status (the traced server must have answered).
async fn send(client: &TracedClient, method: &str, uri: &str, agent: &str) -> u16 {
    let req = http::Request::builder()
        .method(http::Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(uri)
        .header(http::header::USER_AGENT, agent)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.clone().oneshot(req).await.expect("response");
    let status = response.status().as_u16();
    response.into_body().collect().await.expect("body");
    status
}

fn cap_of(key: &str) -> usize {
    CAPS.iter()
        .find(|(k, _)| *k == key)
        .map_or(DEFAULT_CAP, |(_, cap)| *cap)
}

fn assert_capped(span: &ExportedSpan, what: &str) {
    for kv in &span.attributes {
        if let Value::String(s) = &kv.value {
            let cap = cap_of(kv.key.as_str());
            assert!(
                s.as_str().len() <= cap,
                "{what}: {} on the {:?} span is {} bytes, cap {cap}",
                kv.key,
                span.span_kind,
                s.as_str().len()
            );
        }
    }
}

async fn spans_of_kind(t: &TestTelemetry, kind: SpanKind, want: usize) -> Vec<ExportedSpan> {
    for _ in 0..200 {
        let spans: Vec<_> = t
            .spans()
            .into_iter()
            .filter(|s| s.span_kind == kind)
            .collect();
        if spans.len() >= want {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Vec::new()
}

#[tokio::test]
async fn hostile_request_values_are_capped_on_client_and_server_spans() {
    let t = TestTelemetry::new();
    let (addr, client) = setup(&t).await;
    let long = |n: usize| format!("{}{SECRET}", "a".repeat(n));
    let base = format!("http://{addr}");
    let rows: Vec<(&str, String, String, String)> = vec![
        (
            "path",
            "GET".into(),
            format!("{base}/{}", long(60_000)),
            "ua".into(),
        ),
        (
            "query key",
            "GET".into(),
            format!("{base}/q?{}=v", long(60_000)),
            "ua".into(),
        ),
        (
            "user agent",
            "GET".into(),
            format!("{base}/ua"),
            long(300_000),
        ),
        ("method", long(300_000), format!("{base}/m"), "ua".into()),
    ];
    for (what, method, uri, agent) in &rows {
        let status = send(&client, method, uri, agent).await;
        assert_eq!(status, 200, "{what}: the traced server answered");
    }
    let servers = spans_of_kind(&t, SpanKind::Server, rows.len()).await;
    assert_eq!(servers.len(), rows.len(), "one server span per request");
    let clients = spans_of_kind(&t, SpanKind::Client, rows.len()).await;
    assert_eq!(clients.len(), rows.len(), "one client span per request");
    for span in servers.iter().chain(&clients) {
        assert_capped(span, &span.name);
    }
    // The capped values are there (cut, not dropped) where a value was sent.
    let agents = servers
        .iter()
        .filter_map(|s| {
            s.attributes
                .iter()
                .find(|kv| kv.key.as_str() == attribute::USER_AGENT_ORIGINAL)
        })
        .filter(|kv| kv.value.as_str().len() > 400)
        .count();
    assert_eq!(agents, 1, "the 300 KB user agent is kept, cut to its cap");
    let leaks = t.leaks(SECRET);
    assert!(leaks.is_empty(), "secret exported: {leaks:?}");
}

#[tokio::test]
async fn bare_query_tokens_are_redacted_in_url_query_and_url_full() {
    let t = TestTelemetry::new();
    let (addr, client) = setup(&t).await;
    for (query, redacted) in [
        (SECRET.to_owned(), "REDACTED".to_owned()),
        (
            format!("next=%2Fhome&{SECRET}"),
            "next=REDACTED&REDACTED".to_owned(),
        ),
        (format!("{SECRET}&&a="), "REDACTED&&a=REDACTED".to_owned()),
    ] {
        t.reset();
        let status = send(
            &client,
            "GET",
            &format!("http://{addr}/magic?{query}"),
            "ua",
        )
        .await;
        assert_eq!(status, 200);
        let server = spans_of_kind(&t, SpanKind::Server, 1).await;
        assert_eq!(server.len(), 1);
        server[0].assert_attr(attribute::URL_QUERY, redacted.clone());
        let client_span = spans_of_kind(&t, SpanKind::Client, 1).await;
        client_span[0].assert_attr(
            attribute::URL_FULL,
            format!("http://{addr}/magic?{redacted}"),
        );
        let leaks = t.leaks(SECRET);
        assert!(leaks.is_empty(), "{query}: secret exported: {leaks:?}");
    }
}
