//! The default propagator follows the application's global one: with B3 installed globally
//! (through `propagator_from_names`, the `OTEL_PROPAGATORS` mapping, with the B3 propagator
//! of `opentelemetry-zipkin`), an HTTP hop and a gRPC hop through our layers carry the trace
//! in B3 headers; the API's no-op global means W3C again, and an explicit `none` turns
//! propagation off. Layers are built BEFORE the global is installed: the default resolves it
//! per request.
//!
//! Every test here replaces the process-wide global propagator, so they live in this binary
//! alone and take `GLOBAL` in turn.
//!
//! B3 comes from `opentelemetry-zipkin` 0.33, the upstream B3 implementation: the crate is
//! marked deprecated in 0.33 together with its Zipkin exporter, and
//! `opentelemetry-jaeger-propagator` has no 0.33 release (0.32 pins opentelemetry 0.32), so it
//! is the only third-party propagator that works with our pins; hence `allow(deprecated)`.
#![cfg(all(feature = "http", feature = "axum", feature = "grpc"))]
#![allow(deprecated)]

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::context::FutureExt;
use opentelemetry::global;
use opentelemetry::trace::noop::NoopTextMapPropagator;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, propagation::TextMapPropagator};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_zipkin::{B3Encoding, Propagator as B3Propagator};
use otel_rpc::testing::{BoxedPropagator, global_propagator_installed, propagator_from_names};
use otel_rpc::{GrpcClientLayer, GrpcClientService, GrpcServerLayer};
use otel_rpc::{HttpClientLayer, HttpServerLayer};
use otel_testkit::{TestTelemetry, describe};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use tower::{ServiceBuilder, ServiceExt};

mod proto {
    // Generated from tests/proto/echo.proto by scripts/gen-protos.sh.
    include!("gen/echo.rs");
}

use proto::echo_client::EchoClient;
use proto::echo_server::{Echo, EchoServer};
use proto::{EchoReply, EchoRequest};

/// Serialises the tests of this binary: each one replaces the global propagator.
static GLOBAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Propagation headers a hop can carry, reported by each handler as `name,name,...`.
const WIRE: [&str; 4] = ["traceparent", "b3", "x-b3-traceid", "x-b3-spanid"];

/// What the deployment's `OTEL_PROPAGATORS` would say, mapped the documented way.
fn from_names(names: &str) -> impl TextMapPropagator + Send + Sync + use<> {
    propagator_from_names(names, |name| match name {
        "b3" => {
            Some(Box::new(B3Propagator::with_encoding(B3Encoding::SingleHeader)) as BoxedPropagator)
        }
        "b3multi" => Some(Box::new(B3Propagator::with_encoding(
            B3Encoding::MultipleHeader,
        ))),
        _ => None,
    })
}

struct WireService;

#[tonic::async_trait]
impl Echo for WireService {
    async fn say(&self, request: Request<EchoRequest>) -> Result<Response<EchoReply>, Status> {
        let seen: Vec<&str> = WIRE
            .into_iter()
            .filter(|h| request.metadata().contains_key(*h))
            .collect();
        Ok(Response::new(EchoReply {
            message: seen.join(","),
        }))
    }

    type StreamStream = futures_util::stream::Empty<Result<EchoReply, Status>>;

    async fn stream(
        &self,
        _request: Request<EchoRequest>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        Ok(Response::new(futures_util::stream::empty()))
    }
}

type GrpcClient = EchoClient<GrpcClientService<Channel>>;

/// Client -> HTTP server (whose handler calls) -> gRPC server, all through our layers.
struct Hops {
    t: TestTelemetry,
    http_addr: SocketAddr,
}

async fn hops() -> Hops {
    let t = TestTelemetry::new();
    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let grpc_addr = grpc_listener.local_addr().expect("addr");
    let grpc_server = GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(grpc_server)
            .add_service(EchoServer::new(WireService))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(grpc_listener))
            .await
            .expect("serve grpc");
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc_addr}"))
        .expect("endpoint")
        .connect_lazy();
    let grpc_client: GrpcClient = EchoClient::new(
        ServiceBuilder::new()
            .layer(
                GrpcClientLayer::builder()
                    .tracer_provider(t.tracer_provider.clone())
                    .meter_provider(t.meter_provider.clone())
                    .build(),
            )
            .service(channel),
    );

    async fn handler(State(mut grpc): State<GrpcClient>, headers: HeaderMap) -> String {
        let http_wire: Vec<&str> = WIRE
            .into_iter()
            .filter(|h| headers.contains_key(*h))
            .collect();
        let grpc_wire = grpc
            .say(EchoRequest::default())
            .await
            .map(|r| r.into_inner().message)
            .unwrap_or_else(|s| format!("error {s}"));
        format!("{}|{grpc_wire}", http_wire.join(","))
    }
    let app = Router::new()
        .route("/hop", get(handler))
        .with_state(grpc_client)
        .layer(
            HttpServerLayer::builder()
                .tracer_provider(t.tracer_provider.clone())
                .meter_provider(t.meter_provider.clone())
                .build(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let http_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve http");
    });
    Hops { t, http_addr }
}

impl Hops {
    /// Sends one request under a root span; returns the root span's context and what the
    /// HTTP and gRPC handlers saw on the wire (`http|grpc`).
    async fn send(&self) -> (Context, String) {
        let client = ServiceBuilder::new()
            .layer(
                HttpClientLayer::builder()
                    .tracer_provider(self.t.tracer_provider.clone())
                    .meter_provider(self.t.meter_provider.clone())
                    .build(),
            )
            .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
        let root = Context::current_with_span(self.t.tracer("test").start("root"));
        let request = http::Request::get(format!("http://{}/hop", self.http_addr))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = client
            .oneshot(request)
            .with_context(root.clone())
            .await
            .expect("response");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        root.span().end();
        (root, String::from_utf8_lossy(&body).into_owned())
    }

    /// The one span of `kind` from `side`'s layer (`http` or `grpc`), waiting for servers to
    /// export theirs (a server span ends with its response body).
    fn span(&self, kind: SpanKind, grpc: bool) -> SpanData {
        for _ in 0..500 {
            let found: Vec<SpanData> = self
                .t
                .spans()
                .into_iter()
                .filter(|s| {
                    s.span_kind == kind
                        && s.attributes
                            .iter()
                            .any(|kv| kv.key.as_str() == "rpc.system.name")
                            == grpc
                })
                .collect();
            if found.len() == 1 {
                return found.into_iter().next().expect("one");
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        panic!(
            "no single {kind:?} span (grpc: {grpc}): {}",
            describe(&self.t.spans())
        );
    }

    /// Asserts root -> HTTP client -> HTTP server -> gRPC client -> gRPC server, one trace.
    fn assert_chain(&self, root: &Context) {
        let root = root.span().span_context().clone();
        let chain = [
            self.span(SpanKind::Client, false),
            self.span(SpanKind::Server, false),
            self.span(SpanKind::Client, true),
            self.span(SpanKind::Server, true),
        ];
        let mut parent = root.span_id();
        for span in &chain {
            assert_eq!(
                span.span_context.trace_id(),
                root.trace_id(),
                "{}",
                describe(&chain)
            );
            assert_eq!(
                span.parent_span_id,
                parent,
                "{} in {}",
                span.name,
                describe(&chain)
            );
            parent = span.span_context.span_id();
        }
        assert!(chain[1].parent_span_is_remote && chain[3].parent_span_is_remote);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b3_installed_globally_carries_the_trace_through_http_and_grpc_hops() {
    let _global = GLOBAL.lock().await;
    let hops = hops().await; // layers built before the global is installed
    global::set_text_map_propagator(from_names("b3multi"));
    assert!(global_propagator_installed());

    let (root, wire) = hops.send().await;
    assert_eq!(
        wire, "x-b3-traceid,x-b3-spanid|x-b3-traceid,x-b3-spanid",
        "B3 on both hops, no traceparent"
    );
    hops.assert_chain(&root);

    hops.t.reset();
    global::set_text_map_propagator(from_names("b3"));
    let (root, wire) = hops.send().await;
    // opentelemetry-zipkin 0.33 also writes the multi-header form with `SingleHeader`
    // (`support(&UnSpecified)` is always true); what matters: B3, no traceparent.
    assert_eq!(
        wire, "b3,x-b3-traceid,x-b3-spanid|b3,x-b3-traceid,x-b3-spanid",
        "single-header B3 on both hops"
    );
    hops.assert_chain(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_noop_global_means_w3c_and_none_turns_propagation_off() {
    let _global = GLOBAL.lock().await;
    let hops = hops().await;
    global::set_text_map_propagator(NoopTextMapPropagator::new());
    assert!(!global_propagator_installed());
    let (root, wire) = hops.send().await;
    assert_eq!(wire, "traceparent|traceparent", "the strict W3C fallback");
    hops.assert_chain(&root);

    hops.t.reset();
    global::set_text_map_propagator(from_names("none"));
    assert!(global_propagator_installed());
    let (_root, wire) = hops.send().await;
    assert_eq!(wire, "|", "OTEL_PROPAGATORS=none: nothing injected");
    for grpc in [false, true] {
        let server = hops.span(SpanKind::Server, grpc);
        assert_eq!(
            server.parent_span_id,
            opentelemetry::trace::SpanId::INVALID,
            "a new root: {}",
            server.name
        );
    }
}
