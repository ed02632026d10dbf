//! The HTTP layers give the conventions' sampling-relevant attributes
//! (`conventions::HTTP_SERVER.span_start`, `HTTP_CLIENT.span_start`) to the sampler, checked
//! with a sampler that captures what it was given, against a real axum server.
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};
use otel_rpc::conventions::{HTTP_CLIENT, HTTP_SERVER};
use otel_rpc::http::{HttpClientLayer, HttpServerLayer};
use otel_testkit::TestTelemetry;
use tower::{ServiceBuilder, ServiceExt};

/// What the sampler saw, per span kind.
type Seen = Arc<Mutex<Vec<(SpanKind, Vec<KeyValue>)>>>;

#[derive(Debug, Clone)]
struct Capture(Seen);

impl ShouldSample for Capture {
    fn should_sample(
        &self,
        _parent: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        self.0
            .lock()
            .expect("lock")
            .push((kind.clone(), attributes.to_vec()));
        SamplingResult {
            decision: SamplingDecision::RecordAndSample,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

fn keys_seen(seen: &Seen, kind: SpanKind) -> Vec<String> {
    let seen = seen.lock().expect("lock");
    let (_, attributes) = seen
        .iter()
        .find(|(k, _)| *k == kind)
        .unwrap_or_else(|| panic!("no {kind:?} span sampled: {seen:?}"));
    attributes.iter().map(|kv| kv.key.to_string()).collect()
}

#[tokio::test]
async fn span_start_attributes_reach_the_sampler() {
    let seen: Seen = Arc::default();
    // Roots go to the capturing sampler: the server span of an untraced request and the
    // client span of a request with no current span.
    let t = TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(Capture(Arc::clone(&seen)))));
    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .build(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    let request = || {
        http::Request::get(format!("http://{addr}/users/7?page=2"))
            .header(http::header::USER_AGENT, "conventions-test/1.0")
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    let raw = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    raw.request(request()).await.expect("untraced request");
    let server_keys = keys_seen(&seen, SpanKind::Server);
    for attr in HTTP_SERVER.span_start {
        assert!(
            server_keys.iter().any(|k| k == attr.key),
            "server span start lacks {}: {server_keys:?}",
            attr.key
        );
    }

    let traced = ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .build(),
        )
        .service(raw);
    traced.oneshot(request()).await.expect("traced request");
    let client_keys = keys_seen(&seen, SpanKind::Client);
    for attr in HTTP_CLIENT.span_start {
        assert!(
            client_keys.iter().any(|k| k == attr.key),
            "client span start lacks {}: {client_keys:?}",
            attr.key
        );
    }
}
