//! The opt-in HTTP metrics beside the duration, through the layers (real axum server, real
//! hyper client): `http.server.active_requests` goes to 1 while a request runs and back to
//! 0 when its span ends; the body size histograms record the request's `Content-Length` and
//! the bytes the server sent (counted, also for a streamed body without `Content-Length`), or
//! on the client the response's `Content-Length`; nothing of it without the options.
#![cfg(all(feature = "http", feature = "axum"))]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::routing::post;
use bytes::Bytes;
use http_body_util::Full;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::{attribute, metric};
use otel_testkit::{SpanAssert, TestTelemetry};
use tokio::sync::Notify;

use crate::http_fixture::{client, client_builder, request, send, serve, server_builder};

const BODY: &[u8] = b"hello world";

fn app(t: &TestTelemetry, on: bool, entered: Arc<Notify>, release: Arc<Notify>) -> Router {
    Router::new()
        .route(
            "/upload",
            post(move || {
                let (entered, release) = (Arc::clone(&entered), Arc::clone(&release));
                async move {
                    entered.notify_one();
                    release.notified().await;
                    // Streamed: no Content-Length, 2 x 500 bytes.
                    let chunks = futures_util::stream::iter(
                        (0..2).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 500]))),
                    );
                    Body::from_stream(chunks)
                }
            }),
        )
        .route("/fixed", post(|| async { "abc" }))
        .layer(
            server_builder(t)
                .active_requests_metric(on)
                .body_size_metrics(on)
                .build(),
        )
}

fn upload(addr: std::net::SocketAddr, path: &str) -> http::Request<Full<Bytes>> {
    request("POST", addr, path)
        .header(http::header::CONTENT_LENGTH, BODY.len())
        .body(Full::new(Bytes::from_static(BODY)))
        .expect("request")
}

#[tokio::test]
async fn active_requests_and_body_sizes() {
    let t = TestTelemetry::new();
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let addr = serve(app(&t, true, Arc::clone(&entered), Arc::clone(&release))).await;
    let traced = client(
        client_builder(&t)
            .active_requests_metric(true)
            .body_size_metrics(true)
            .build(),
    );

    let call = tokio::spawn({
        let traced = traced.clone();
        async move { send(&traced, upload(addr, "/upload")).await }
    });
    entered.notified().await;
    let active = t.i64_sum(metric::HTTP_SERVER_ACTIVE_REQUESTS);
    assert_eq!(active.len(), 1, "{active:?}");
    let (value, attrs) = &active[0];
    assert_eq!(*value, 1);
    let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
    assert!(
        keys.contains(&attribute::HTTP_REQUEST_METHOD) && keys.contains(&attribute::URL_SCHEME)
    );
    assert!(!keys.contains(&attribute::HTTP_ROUTE), "{keys:?}");
    assert_eq!(t.i64_sum(metric::HTTP_CLIENT_ACTIVE_REQUESTS)[0].0, 1);
    release.notify_one();
    let (status, body) = call.await.expect("join");
    assert_eq!((status, body.len()), (200, 1000));

    assert_eq!(t.i64_sum(metric::HTTP_SERVER_ACTIVE_REQUESTS)[0].0, 0);
    assert_eq!(t.i64_sum(metric::HTTP_CLIENT_ACTIVE_REQUESTS)[0].0, 0);
    let request_sizes = t.u64_histogram(metric::HTTP_SERVER_REQUEST_BODY_SIZE);
    assert_eq!(request_sizes.len(), 1);
    assert_eq!((request_sizes[0].count, request_sizes[0].sum), (1, 11.0));
    assert_eq!(
        request_sizes[0].attr(attribute::HTTP_ROUTE).as_deref(),
        Some("/upload")
    );
    let response_sizes = t.u64_histogram(metric::HTTP_SERVER_RESPONSE_BODY_SIZE);
    assert_eq!(
        (response_sizes[0].count, response_sizes[0].sum),
        (1, 1000.0)
    );
    assert_eq!(
        t.metric_unit(metric::HTTP_SERVER_RESPONSE_BODY_SIZE)
            .as_deref(),
        Some("By")
    );
    let server = t
        .spans()
        .into_iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .expect("server span");
    server
        .assert_attr(attribute::HTTP_REQUEST_BODY_SIZE, 11_i64)
        .assert_attr(attribute::HTTP_RESPONSE_BODY_SIZE, 1000_i64);
    // The client saw a chunked response: its request size, no response size.
    let client_request = t.u64_histogram(metric::HTTP_CLIENT_REQUEST_BODY_SIZE);
    assert_eq!(client_request[0].sum, 11.0);
    assert!(
        t.u64_histogram(metric::HTTP_CLIENT_RESPONSE_BODY_SIZE)
            .is_empty()
    );

    // A response with Content-Length: the client records it.
    assert_eq!(send(&traced, upload(addr, "/fixed")).await.0, 200);
    let client_response = t.u64_histogram(metric::HTTP_CLIENT_RESPONSE_BODY_SIZE);
    assert_eq!((client_response[0].count, client_response[0].sum), (1, 3.0));
}

#[tokio::test]
async fn nothing_without_the_options() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, false, Arc::default(), Arc::default())).await;
    let traced = client(client_builder(&t).build());
    assert_eq!(send(&traced, upload(addr, "/fixed")).await.0, 200);
    assert!(!t.histogram(metric::HTTP_SERVER_REQUEST_DURATION).is_empty());
    for name in [
        metric::HTTP_SERVER_ACTIVE_REQUESTS,
        metric::HTTP_CLIENT_ACTIVE_REQUESTS,
        metric::HTTP_SERVER_REQUEST_BODY_SIZE,
        metric::HTTP_SERVER_RESPONSE_BODY_SIZE,
        metric::HTTP_CLIENT_REQUEST_BODY_SIZE,
        metric::HTTP_CLIENT_RESPONSE_BODY_SIZE,
    ] {
        assert_eq!(t.series(name), 0, "{name}");
    }
    for span in t.spans() {
        span.assert_no_attr(attribute::HTTP_REQUEST_BODY_SIZE)
            .assert_no_attr(attribute::HTTP_RESPONSE_BODY_SIZE);
    }
}
