//! A real axum server and a real hyper client, each behind a layer built by the test, for the
//! HTTP convention tests (known methods, header capture, migration names, HTTP metrics).
#![cfg(all(feature = "http", feature = "axum"))]

use std::net::SocketAddr;

use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use otel_rpc::InstrumentationOptions;
use otel_rpc::LayerBuilder;
use otel_rpc::{HttpClient, HttpClientLayer, HttpServer, HttpServerLayer};
use otel_testkit::TestTelemetry;
use tower::{ServiceBuilder, ServiceExt};

/// The raw client every test layers.
pub type RawClient = Client<HttpConnector, Full<Bytes>>;
/// The traced client.
pub type TracedClient = otel_rpc::HttpClientService<RawClient>;

/// A server-layer builder exporting into `t`.
pub fn server_builder(t: &TestTelemetry) -> LayerBuilder<HttpServer> {
    HttpServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
}

/// A client-layer builder exporting into `t`.
pub fn client_builder(t: &TestTelemetry) -> LayerBuilder<HttpClient> {
    HttpClientLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
}

/// `layer` around a real hyper client.
pub fn client(layer: HttpClientLayer) -> TracedClient {
    ServiceBuilder::new()
        .layer(layer)
        .service(Client::builder(TokioExecutor::new()).build_http())
}

/// Serves `app` on a loopback port (with `ConnectInfo`).
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// Sends `req` and reads the whole response; the status and body.
pub async fn send(client: &TracedClient, req: http::Request<Full<Bytes>>) -> (u16, Bytes) {
    let response = client.clone().oneshot(req).await.expect("response");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body)
}

/// A request with `method` to `path` on `addr`.
pub fn request(method: &str, addr: SocketAddr, path: &str) -> http::request::Builder {
    http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
}

/// The one exported span of `kind`.
pub fn one_span(
    t: &TestTelemetry,
    kind: opentelemetry::trace::SpanKind,
) -> otel_testkit::ExportedSpan {
    let mut spans: Vec<_> = t
        .spans()
        .into_iter()
        .filter(|s| s.span_kind == kind)
        .collect();
    assert_eq!(spans.len(), 1, "one {kind:?} span expected: {spans:?}");
    spans.remove(0)
}

/// A gRPC server-layer builder exporting into `t`.
#[cfg(feature = "grpc")]
pub fn grpc_server_builder(t: &TestTelemetry) -> LayerBuilder<otel_rpc::GrpcServer> {
    otel_rpc::GrpcServerLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
}

/// A gRPC client-layer builder exporting into `t`.
#[cfg(feature = "grpc")]
pub fn grpc_client_builder(t: &TestTelemetry) -> LayerBuilder<otel_rpc::GrpcClient> {
    otel_rpc::GrpcClientLayer::builder()
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
}

/// The echo service behind `layer` on a loopback port.
#[cfg(feature = "grpc")]
pub async fn grpc_serve(layer: otel_rpc::GrpcServerLayer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(layer)
            .add_service(crate::echo::proto::echo_server::EchoServer::new(
                crate::echo::Service,
            ))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("serve");
    });
    addr
}

/// An echo client to `addr` through `layer`.
#[cfg(feature = "grpc")]
pub async fn grpc_client(
    addr: SocketAddr,
    layer: otel_rpc::GrpcClientLayer,
) -> crate::echo::proto::echo_client::EchoClient<
    otel_rpc::GrpcClientService<tonic::transport::Channel>,
> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    crate::echo::proto::echo_client::EchoClient::new(
        ServiceBuilder::new().layer(layer).service(channel),
    )
}

/// A `Say` request carrying `x-tenant: acme` (and the extra metadata `pairs`).
#[cfg(feature = "grpc")]
pub fn tenant_request(
    pairs: &[(&'static str, String)],
) -> tonic::Request<crate::echo::proto::EchoRequest> {
    let mut request = tonic::Request::new(crate::echo::proto::EchoRequest {
        message: "hi".into(),
        count: 0,
    });
    let metadata = request.metadata_mut();
    metadata.insert("x-tenant", "acme".parse().expect("ascii"));
    for (key, value) in pairs {
        metadata.insert(*key, value.parse().expect("ascii"));
    }
    request
}
