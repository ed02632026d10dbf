//! Adapters built before the application installs its global providers record to them once
//! they are installed (and to their replacements): spans, the duration histograms and
//! exception log records. One test per binary: it owns the process-wide providers.
#![cfg(all(feature = "http", feature = "axum"))]

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::Context;
use opentelemetry::trace::SpanKind;
use otel_rpc::ExceptionSignal;
use otel_rpc::{Failure, SpanRecorder};
use otel_rpc::{HttpClientLayer, HttpServerLayer};
use otel_testkit::{SpanAssert, TestTelemetry};
use tower::{ServiceBuilder, ServiceExt};

/// Longer than the recorders' refresh interval (100 ms).
const AFTER_INSTALL: Duration = Duration::from_millis(150);

fn install(t: &TestTelemetry) {
    opentelemetry::global::set_tracer_provider(t.tracer_provider.clone());
    opentelemetry::global::set_meter_provider(t.meter_provider.clone());
    otel_rpc::set_logger_provider(t.logger_provider.clone());
}

fn total_count(t: &TestTelemetry, metric: &str) -> u64 {
    t.histogram(metric).iter().map(|p| p.count).sum()
}

/// Waits until the server span of one request is exported (it ends after the body is sent).
async fn server_spans(t: &TestTelemetry, want: usize) -> usize {
    for _ in 0..100 {
        let n = t
            .spans()
            .iter()
            .filter(|s| s.span_kind == SpanKind::Server)
            .count();
        if n >= want {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    0
}

#[tokio::test]
async fn adapters_built_first_follow_providers_installed_later() {
    // Everything is built while the global providers are still the no-op defaults.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route("/items/{id}", get(|| async { "item" }))
        .layer(HttpServerLayer::builder().build());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let client = ServiceBuilder::new()
        .layer(HttpClientLayer::builder().build())
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let db = SpanRecorder::builder(SpanKind::Client, "late-db")
        .exception_signal(ExceptionSignal::Logs)
        .build();
    let run = || {
        let client = client.clone();
        let db = db.clone();
        async move {
            let req = http::Request::get(format!("http://{addr}/items/1"))
                .body(Full::new(Bytes::new()))
                .expect("request");
            let response = client.oneshot(req).await.expect("response");
            assert_eq!(response.status(), 200);
            response.into_body().collect().await.expect("body");
            db.start(&Context::new(), "late query", vec![])
                .end(Failure::new("io").with_exception().into());
        }
    };
    run().await;

    let mut installed: Vec<TestTelemetry> = Vec::new();
    for round in 0..2 {
        let t = TestTelemetry::new();
        install(&t);
        tokio::time::sleep(AFTER_INSTALL).await;
        run().await;
        assert_eq!(server_spans(&t, 1).await, 1, "round {round}");
        t.span("GET /items/{id}").assert_kind(SpanKind::Server);
        let client_spans = t
            .spans_named("GET")
            .into_iter()
            .filter(|s| s.span_kind == SpanKind::Client)
            .count();
        assert_eq!(client_spans, 1, "round {round}");
        t.span("late query").assert_kind(SpanKind::Client);
        for metric in [
            "http.server.request.duration",
            "http.client.request.duration",
            "db.client.operation.duration",
        ] {
            assert_eq!(total_count(&t, metric), 1, "round {round}: {metric}");
        }
        assert_eq!(t.logs().len(), 1, "round {round}: one exception log record");
        installed.push(t);
    }
    // The replaced providers got nothing of the second round.
    let first = &installed[0];
    assert_eq!(first.spans().len(), 3);
    assert_eq!(total_count(first, "http.server.request.duration"), 1);
    assert_eq!(first.logs().len(), 1);
}
