//! HTTP server and client layers against a real axum server and real hyper / reqwest clients.
#![cfg(all(feature = "http", feature = "axum"))]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;

use crate::http_fixture::serve;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry_semantic_conventions::attribute;
use otel_rpc::testing::PEER_SERVICE_HEADER;
use otel_rpc::{HttpClientLayer, HttpClientService, HttpServerLayer};
use otel_testkit::{ExportedSpan, SpanAssert, TestTelemetry};
use tower::{ServiceBuilder, ServiceExt};

type RawClient = Client<HttpConnector, Full<Bytes>>;
type TracedClient = HttpClientService<RawClient>;

fn raw_client() -> RawClient {
    Client::builder(TokioExecutor::new()).build_http()
}

fn traced_client(t: &TestTelemetry) -> TracedClient {
    ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .service_name("test-client")
                .build(),
        )
        .service(raw_client())
}

fn server_layer(t: &TestTelemetry) -> HttpServerLayer {
    HttpServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build()
}

/// The app under test: nested work in the handler, 404, 500, panic, a slow stream.
fn app(t: &TestTelemetry, last_chunk: Arc<Mutex<Option<SystemTime>>>) -> Router {
    let tracer = t.tracer("handler");
    Router::new()
        .route(
            "/users/{id}",
            get(move || {
                let tracer = tracer.clone();
                async move {
                    // Started under the current context: must nest under the server span.
                    let _work = tracer.start("load user");
                    "user"
                }
            }),
        )
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/panic",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("handler exploded");
                }
                "unreachable"
            }),
        )
        .route(
            "/stream",
            get(move || {
                let last_chunk = Arc::clone(&last_chunk);
                async move {
                    let chunks = futures_util::stream::unfold(0u32, move |i| {
                        let last_chunk = Arc::clone(&last_chunk);
                        async move {
                            if i == 3 {
                                return None;
                            }
                            tokio::time::sleep(Duration::from_millis(60)).await;
                            *last_chunk.lock().expect("lock") = Some(SystemTime::now());
                            Some((
                                Ok::<_, std::io::Error>(Bytes::from(format!("chunk{i};"))),
                                i + 1,
                            ))
                        }
                    });
                    Body::from_stream(chunks)
                }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .layer(server_layer(t))
}

fn request(addr: SocketAddr, path_and_query: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(format!("http://{addr}{path_and_query}"))
        .header(http::header::USER_AGENT, "otel-test/1.0")
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// Sends through the traced client and reads the whole body.
async fn send(
    client: &TracedClient,
    req: http::Request<Full<Bytes>>,
) -> Option<(StatusCode, Bytes)> {
    let response = client.clone().oneshot(req).await.ok()?;
    let status = response.status();
    let body = response.into_body().collect().await.ok()?.to_bytes();
    Some((status, body))
}

fn only(spans: Vec<ExportedSpan>, kind: SpanKind) -> ExportedSpan {
    let mut found: Vec<_> = spans.into_iter().filter(|s| s.span_kind == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind:?} span: {found:?}");
    found.remove(0)
}

fn total_count(t: &TestTelemetry, metric: &str) -> u64 {
    t.histogram(metric).iter().map(|p| p.count).sum()
}

#[tokio::test]
async fn ok_request_links_client_and_server_spans() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    let client = traced_client(&t);

    let (status, body) = send(&client, request(addr, "/users/7?token=secret-token"))
        .await
        .expect("response");
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"user"[..]));

    let server = t.span("GET /users/{id}");
    let client_span = only(t.spans_named("GET"), SpanKind::Client);
    server
        .assert_kind(SpanKind::Server)
        .assert_child_of(&client_span)
        .assert_unset()
        .assert_attr(attribute::HTTP_REQUEST_METHOD, "GET")
        .assert_attr(attribute::HTTP_ROUTE, "/users/{id}")
        .assert_attr(attribute::URL_PATH, "/users/7")
        .assert_attr(attribute::URL_SCHEME, "http")
        .assert_attr(attribute::SERVER_ADDRESS, "127.0.0.1")
        .assert_attr(attribute::SERVER_PORT, i64::from(addr.port()))
        .assert_attr(attribute::CLIENT_ADDRESS, "127.0.0.1")
        .assert_attr(attribute::USER_AGENT_ORIGINAL, "otel-test/1.0")
        .assert_attr(attribute::NETWORK_PROTOCOL_VERSION, "1.1")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200)
        .assert_attr(attribute::SERVICE_PEER_NAME, "test-client")
        // Values redacted by the same rule as the client's url.full.
        .assert_attr(attribute::URL_QUERY, "token=REDACTED")
        .assert_no_attr(attribute::ERROR_TYPE);
    client_span
        .assert_unset()
        .assert_attr(attribute::HTTP_REQUEST_METHOD, "GET")
        .assert_attr(attribute::SERVER_ADDRESS, "127.0.0.1")
        .assert_attr(attribute::SERVER_PORT, i64::from(addr.port()))
        .assert_attr(
            attribute::URL_FULL,
            format!("http://{addr}/users/7?token=REDACTED"),
        )
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200);
    assert!(!client_span.all_text().contains("secret-token"));
    assert!(!server.all_text().contains("secret-token"));
    t.span("load user").assert_child_of(&server);

    let points = t.histogram("http.server.request.duration");
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
    assert_eq!(
        points[0].attr(attribute::HTTP_ROUTE).as_deref(),
        Some("/users/{id}")
    );
    assert_eq!(
        points[0]
            .attr(attribute::HTTP_RESPONSE_STATUS_CODE)
            .as_deref(),
        Some("200")
    );
    assert_eq!(points[0].attr(attribute::URL_PATH), None);
    // server.address is opt-in on the server metric.
    assert_eq!(points[0].attr(attribute::SERVER_ADDRESS), None);
    let points = t.histogram("http.client.request.duration");
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
}

#[tokio::test]
async fn not_found_is_unset_on_the_server_and_an_error_on_the_client() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    let (status, _) = send(&traced_client(&t), request(addr, "/missing/42"))
        .await
        .expect("response");
    assert_eq!(status, StatusCode::NOT_FOUND);

    let spans = t.spans_named("GET");
    let server = only(spans.clone(), SpanKind::Server);
    let client = only(spans, SpanKind::Client);
    server
        .assert_child_of(&client)
        .assert_unset()
        .assert_no_attr(attribute::HTTP_ROUTE)
        .assert_attr(attribute::URL_PATH, "/missing/42")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 404);
    client
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "404")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 404);
}

#[tokio::test]
async fn server_error_is_an_error_on_both_sides() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    let (status, _) = send(&traced_client(&t), request(addr, "/fail"))
        .await
        .expect("response");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);

    let server = t.span("GET /fail");
    let client = only(t.spans_named("GET"), SpanKind::Client);
    server
        .assert_child_of(&client)
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "500")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 500);
    client
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "500");
    let points = t.histogram("http.server.request.duration");
    assert_eq!(points.len(), 1);
    assert_eq!(
        points[0].attr(attribute::ERROR_TYPE).as_deref(),
        Some("500")
    );
}

#[tokio::test]
async fn handler_panic_is_an_error() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    // The panic is resumed, so the connection is torn down: the client sees a transport error.
    let outcome = send(&traced_client(&t), request(addr, "/panic")).await;
    assert!(outcome.is_none(), "no response expected: {outcome:?}");

    let server = t.span("GET /panic");
    let client = only(t.spans_named("GET"), SpanKind::Client);
    server
        .assert_child_of(&client)
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "panic");
    client
        .assert_error()
        // A transport error has no stable classification: `_OTHER`, never a type name.
        .assert_attr(attribute::ERROR_TYPE, "_OTHER")
        .assert_no_attr(attribute::HTTP_RESPONSE_STATUS_CODE);
    assert_eq!(total_count(&t, "http.server.request.duration"), 1);
    // The panic's own text is application text: never recorded.
    assert!(t.leaks("exploded").is_empty(), "{:?}", t.leaks("exploded"));
    assert_eq!(
        server.status,
        opentelemetry::trace::Status::error("the handler panicked")
    );
}

#[tokio::test]
async fn server_span_ends_after_the_streamed_body() {
    let t = TestTelemetry::new();
    let last_chunk = Arc::new(Mutex::new(None));
    let addr = serve(app(&t, Arc::clone(&last_chunk))).await;
    let (status, body) = send(&traced_client(&t), request(addr, "/stream"))
        .await
        .expect("response");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"chunk0;chunk1;chunk2;");

    let last = last_chunk.lock().expect("lock").expect("chunks produced");
    let server = t.span("GET /stream");
    server.assert_unset();
    assert!(
        server.end_time >= last,
        "server span ended at {:?}, before the last chunk at {last:?}",
        server.end_time
    );
    assert!(
        server
            .end_time
            .duration_since(server.start_time)
            .unwrap_or_default()
            >= Duration::from_millis(180)
    );
}

#[tokio::test]
async fn three_hops_share_one_trace() {
    let t = TestTelemetry::new();
    let b = serve(
        Router::new()
            .route("/b", get(|| async { "b" }))
            .layer(server_layer(&t)),
    )
    .await;
    let inner_client = traced_client(&t);
    let a = serve(
        Router::new()
            .route(
                "/a",
                get(move || {
                    let client = inner_client.clone();
                    async move {
                        let (_, body) = send(&client, request(b, "/b")).await.expect("hop to b");
                        body
                    }
                }),
            )
            .layer(server_layer(&t)),
    )
    .await;

    let (status, body) = send(&traced_client(&t), request(a, "/a"))
        .await
        .expect("response");
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"b"[..]));

    let clients = t.spans_named("GET");
    let by_port = |port: u16| {
        clients
            .iter()
            .find(|s| s.attr(attribute::SERVER_PORT) == Some(&i64::from(port).into()))
            .cloned()
            .unwrap_or_else(|| panic!("no client span to port {port}: {clients:?}"))
    };
    let (to_a, to_b) = (by_port(a.port()), by_port(b.port()));
    let (server_a, server_b) = (t.span("GET /a"), t.span("GET /b"));
    server_a.assert_child_of(&to_a);
    to_b.assert_child_of(&server_a);
    server_b.assert_child_of(&to_b);
    let trace = to_a.span_context.trace_id();
    for s in [&server_a, &to_b, &server_b] {
        assert_eq!(s.span_context.trace_id(), trace);
    }
    assert!(!to_a.parent_span_id.to_string().is_empty());
    assert_eq!(t.spans().len(), 4);
}

#[tokio::test]
async fn garbage_or_huge_propagation_headers_start_a_new_trace() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    let cases = [
        ("traceparent", "garbage".to_owned()),
        (
            "traceparent",
            format!("00-{}-00f067aa0ba902b7-01", "a".repeat(20_000)),
        ),
        ("baggage", format!("k={}", "v".repeat(30_000))),
    ];
    for (name, value) in cases {
        t.reset();
        let mut req = request(addr, "/users/1");
        req.headers_mut()
            .insert(name, value.parse().expect("header value"));
        let response = raw_client().request(req).await.expect("served");
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let server = t.span("GET /users/{id}");
        assert_eq!(
            server.parent_span_id,
            opentelemetry::trace::SpanId::INVALID,
            "{name}: expected a root span"
        );
    }
}

#[tokio::test]
async fn filtered_requests_get_no_span_and_no_metric() {
    let t = TestTelemetry::new();
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/orders/{id}", get(|| async { "order" }))
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .filter(|req| req.uri.path() != "/healthz")
                .attributes(|req, attrs| {
                    if let Some(tenant) = req.headers.get("x-tenant").and_then(|v| v.to_str().ok())
                    {
                        attrs.push(KeyValue::new("app.tenant", tenant.to_owned()));
                    }
                })
                .build(),
        );
    let addr = serve(app).await;
    let client = raw_client();
    for path in ["/healthz", "/orders/1", "/healthz"] {
        let mut req = request(addr, path);
        req.headers_mut()
            .insert("x-tenant", "acme".parse().expect("value"));
        let response = client.request(req).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
    }
    let spans = t.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    t.span("GET /orders/{id}").assert_attr("app.tenant", "acme");
    assert_eq!(total_count(&t, "http.server.request.duration"), 1);
}

#[tokio::test]
async fn custom_span_names_and_client_parent_from_the_current_context() {
    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    let client = ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .span_name(|req| format!("fetch {}", req.method).into())
                .build(),
        )
        .service(raw_client());
    let parent = t.tracer("test").start("checkout");
    let cx = opentelemetry::Context::current_with_span(parent);
    let (status, _) = {
        use opentelemetry::context::FutureExt;
        send(&client, request(addr, "/users/3"))
            .with_context(cx.clone())
            .await
            .expect("response")
    };
    assert_eq!(status, StatusCode::OK);
    cx.span().end();
    let parent = t.span("checkout");
    let client_span = t.span("fetch GET");
    client_span.assert_child_of(&parent);
    t.span("GET /users/{id}").assert_child_of(&client_span);
    assert_eq!(PEER_SERVICE_HEADER, "x-md-service-name");
}

#[cfg(feature = "reqwest")]
#[tokio::test]
async fn reqwest_middleware_traces_requests() {
    use otel_rpc::OtelMiddleware;

    let t = TestTelemetry::new();
    let addr = serve(app(&t, Arc::default())).await;
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(OtelMiddleware::from(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        ))
        .build();

    let ok = client
        .get(format!("http://user:hunter2@{addr}/users/9?api_key=s3cret"))
        .send()
        .await
        .expect("response");
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    let server = t.span("GET /users/{id}");
    let client_span = only(t.spans_named("GET"), SpanKind::Client);
    server.assert_child_of(&client_span);
    client_span
        .assert_unset()
        .assert_attr(attribute::HTTP_REQUEST_METHOD, "GET")
        .assert_attr(attribute::SERVER_ADDRESS, "127.0.0.1")
        .assert_attr(attribute::SERVER_PORT, i64::from(addr.port()))
        .assert_attr(attribute::URL_SCHEME, "http")
        .assert_attr(
            attribute::URL_FULL,
            // reqwest moves URL credentials into an Authorization header before middleware runs.
            format!("http://{addr}/users/9?api_key=REDACTED"),
        )
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200);
    assert!(!client_span.all_text().contains("hunter2"));
    assert!(!client_span.all_text().contains("s3cret"));

    t.reset();
    let missing = client
        .get(format!("http://{addr}/nope"))
        .send()
        .await
        .expect("response");
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
    only(t.spans_named("GET"), SpanKind::Client)
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "404");

    t.reset();
    let unreachable = client.get("http://127.0.0.1:1/x?k=v").send().await;
    assert!(unreachable.is_err());
    let failed = t.span("GET");
    failed
        .assert_error()
        // reqwest's own classification of the failure.
        .assert_attr(attribute::ERROR_TYPE, "connect")
        .assert_attr(attribute::SERVER_PORT, 1);
    assert_eq!(total_count(&t, "http.client.request.duration"), 3);
}

/// Polls the exported spans until one named `name` appears, for at most `limit`.
async fn wait_for_span(t: &TestTelemetry, name: &str, limit: Duration) -> Option<ExportedSpan> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(span) = t.spans_named(name).into_iter().next() {
            return Some(span);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn body_dropped_by_the_client_ends_the_server_span_as_cancelled() {
    let t = TestTelemetry::new();
    // A body that would take a minute to finish: only the client going away can end it in
    // time.
    let app = Router::new()
        .route(
            "/endless",
            get(|| async {
                let chunks = futures_util::stream::unfold(0u32, |i| async move {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(60)).await;
                    }
                    (i < 1000).then(|| {
                        (
                            Ok::<_, std::io::Error>(Bytes::from(format!("chunk{i};"))),
                            i + 1,
                        )
                    })
                });
                Body::from_stream(chunks)
            }),
        )
        .layer(server_layer(&t));
    let addr = serve(app).await;

    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    let connection = tokio::spawn(connection);
    let response = sender
        .send_request(request(addr, "/endless"))
        .await
        .expect("response head");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let first = body
        .frame()
        .await
        .expect("a first frame")
        .expect("frame")
        .into_data()
        .expect("data frame");
    assert_eq!(&first[..], b"chunk0;");
    // The client goes away mid-stream: body, sender and connection dropped, socket closed.
    drop(body);
    drop(sender);
    connection.abort();

    let server = wait_for_span(&t, "GET /endless", Duration::from_secs(10))
        .await
        .expect("the server span must end once the client is gone");
    server
        .assert_kind(SpanKind::Server)
        .assert_error()
        .assert_attr(attribute::ERROR_TYPE, "cancelled")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200)
        .assert_attr(attribute::HTTP_ROUTE, "/endless");
    assert!(
        server
            .end_time
            .duration_since(server.start_time)
            .unwrap_or_default()
            < Duration::from_secs(30),
        "ended long before the body could have finished"
    );
    let points = t.histogram("http.server.request.duration");
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0].count, 1);
    assert_eq!(
        points[0].attr(attribute::ERROR_TYPE).as_deref(),
        Some("cancelled")
    );
    assert_eq!(
        points[0]
            .attr(attribute::HTTP_RESPONSE_STATUS_CODE)
            .as_deref(),
        Some("200")
    );
}

#[tokio::test]
async fn plain_hyper_service_names_spans_with_the_route_function() {
    use std::borrow::Cow;
    use std::convert::Infallible;

    use tower::Service;

    let t = TestTelemetry::new();
    let handler = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
        let body = Full::new(Bytes::from(req.uri().path().to_owned()));
        Ok::<_, Infallible>(http::Response::new(body))
    });
    let service = ServiceBuilder::new()
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .route(|req| {
                    req.uri
                        .path()
                        .starts_with("/items/")
                        .then_some(Cow::Borrowed("/items/{id}"))
                })
                .build(),
        )
        .service(handler);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = service.clone();
            let hyper_service = hyper::service::service_fn(move |req| {
                let mut service = service.clone();
                async move { service.ready().await?.call(req).await }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), hyper_service),
            );
        }
    });

    let client = raw_client();
    for path in ["/items/17", "/other/17"] {
        let response = client.request(request(addr, path)).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], path.as_bytes());
    }

    t.span("GET /items/{id}")
        .assert_kind(SpanKind::Server)
        .assert_unset()
        .assert_attr(attribute::HTTP_ROUTE, "/items/{id}")
        .assert_attr(attribute::URL_PATH, "/items/17")
        .assert_attr(attribute::HTTP_RESPONSE_STATUS_CODE, 200)
        .assert_attr(attribute::SERVER_ADDRESS, "127.0.0.1")
        .assert_attr(attribute::SERVER_PORT, i64::from(addr.port()))
        // No axum `ConnectInfo` here, so the socket peer is unknown.
        .assert_no_attr(attribute::CLIENT_ADDRESS);
    t.span("GET")
        .assert_kind(SpanKind::Server)
        .assert_no_attr(attribute::HTTP_ROUTE)
        .assert_attr(attribute::URL_PATH, "/other/17");
    assert_eq!(t.spans().len(), 2);
    let mut routes: Vec<_> = t
        .histogram("http.server.request.duration")
        .iter()
        .map(|p| (p.attr(attribute::HTTP_ROUTE), p.count))
        .collect();
    routes.sort();
    assert_eq!(routes, [(None, 1), (Some("/items/{id}".to_owned()), 1)]);
}

/// `catch_panics(false)`: the layer does not catch; the unwinding drops the span, which ends
/// as cancelled. The default catches it and records `panic`. Both resume the panic.
#[tokio::test]
async fn catch_panics_option_decides_how_a_panicking_call_ends() {
    for (catch, error_type) in [(true, "panic"), (false, "cancelled")] {
        let t = TestTelemetry::new();
        let layer = HttpServerLayer::builder()
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .catch_panics(catch)
            .build();
        let service = tower::Layer::layer(
            &layer,
            tower::service_fn(|_req: http::Request<Full<Bytes>>| async {
                if std::hint::black_box(true) {
                    panic!("inner service panicked");
                }
                Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
            }),
        );
        let request = http::Request::get("http://127.0.0.1/boom")
            .body(Full::new(Bytes::new()))
            .expect("request");
        let joined = tokio::spawn(service.oneshot(request)).await;
        assert!(joined.expect_err("the panic is resumed").is_panic());
        t.span("GET")
            .assert_error()
            .assert_attr(attribute::ERROR_TYPE, error_type);
        assert_eq!(total_count(&t, "http.server.request.duration"), 1);
    }
}
