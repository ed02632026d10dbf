//! reqwest through `OtelMiddleware`, against a real axum server: every send through the
//! middleware is one span, and a resend (a retry middleware in front of ours) carries
//! `http.request.resend_count`; a redirect chain that reqwest follows inside the client is one
//! span (the documented deviation).
#![cfg(all(feature = "reqwest", feature = "axum"))]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::get;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::{HttpClientLayer, HttpServerLayer, OtelMiddleware};
use otel_testkit::{SpanAssert, TestTelemetry};
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};

/// Resends a request answered 503, at most twice, through the middlewares after it.
struct Retry;

#[async_trait::async_trait]
impl Middleware for Retry {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let mut attempt = req;
        for _ in 0..2 {
            let again = attempt.try_clone().expect("bodiless request");
            let response = next.clone().run(attempt, extensions).await?;
            if response.status() != StatusCode::SERVICE_UNAVAILABLE {
                return Ok(response);
            }
            attempt = again;
        }
        next.run(attempt, extensions).await
    }
}

async fn serve(t: &TestTelemetry) -> SocketAddr {
    let calls = Arc::new(AtomicU32::new(0));
    let app = Router::new()
        .route(
            "/flaky",
            get(move || {
                let calls = Arc::clone(&calls);
                async move {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => StatusCode::SERVICE_UNAVAILABLE,
                        _ => StatusCode::OK,
                    }
                }
            }),
        )
        .route("/moved", get(|| async { Redirect::to("/target") }))
        .route("/target", get(|| async { "here" }))
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
    addr
}

fn client(t: &TestTelemetry, retry: bool) -> ClientWithMiddleware {
    let mut builder = reqwest_middleware::ClientBuilder::new(reqwest::Client::new());
    if retry {
        builder = builder.with(Retry);
    }
    builder
        .with(OtelMiddleware::from(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        ))
        .build()
}

#[tokio::test]
async fn each_resend_is_a_span_with_its_resend_count() {
    let t = TestTelemetry::new();
    let addr = serve(&t).await;
    let parent = t.tracer("test").start("checkout");
    let cx = opentelemetry::Context::current_with_span(parent);
    let response = {
        let _guard = cx.clone().attach();
        client(&t, true)
            .get(format!("http://{addr}/flaky"))
            .send()
            .await
            .expect("response")
    };
    assert_eq!(response.status(), StatusCode::OK);
    cx.span().end();

    let mut sends: Vec<_> = t
        .spans()
        .into_iter()
        .filter(|s| s.span_kind == SpanKind::Client)
        .collect();
    sends.sort_by_key(|s| s.start_time);
    assert_eq!(sends.len(), 3, "one span per send");
    let parent = t.span("checkout");
    for (i, span) in sends.iter().enumerate() {
        span.assert_child_of(&parent)
            .assert_attr(attribute::URL_FULL, format!("http://{addr}/flaky"));
        if i == 0 {
            span.assert_no_attr(attribute::HTTP_REQUEST_RESEND_COUNT);
        } else {
            span.assert_attr(attribute::HTTP_REQUEST_RESEND_COUNT, i as i64);
        }
    }
    sends[0].assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 503);
    sends[2].assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200);
    // A new request starts again at no resend count.
    t.reset();
    let _ = client(&t, true)
        .get(format!("http://{addr}/flaky"))
        .send()
        .await
        .expect("response");
    t.span("GET")
        .assert_no_attr(attribute::HTTP_REQUEST_RESEND_COUNT);
}

#[tokio::test]
async fn a_followed_redirect_chain_is_one_span() {
    let t = TestTelemetry::new();
    let addr = serve(&t).await;
    let response = client(&t, false)
        .get(format!("http://{addr}/moved"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.url().path(), "/target", "reqwest followed it");
    let client_span = t.span("GET");
    client_span
        .assert_attr(attribute::URL_FULL, format!("http://{addr}/moved"))
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200)
        .assert_no_attr(attribute::HTTP_REQUEST_RESEND_COUNT);
    // Both hops reached the server under the one client span.
    t.span("GET /moved").assert_child_of(&client_span);
    t.span("GET /target").assert_child_of(&client_span);
}
