//! The HTTP and gRPC layers measured in-process, with no socket: the client-side service
//! hands the request straight to the server-side service (an axum `Router` or a tonic
//! `EchoServer`, empty handlers), and each iteration is driven to completion on a
//! current-thread runtime, response body included. Raw = the same call without layers, so
//! "layers minus raw" is the layer pair's CPU, comparable with the SDK floor of
//! [`crate::floor`].
//!
//! Rows: the pair (client + server layer) sampled, under an unsampled parent, and the
//! `tracing` route's pair; then server-side layers alone on a request that carries a sampled
//! `traceparent`: ours, the `tracing` route's, and (feature `alternatives`)
//! `opentelemetry-instrumentation-tower` and `axum-tracing-opentelemetry`, none of which has
//! a client side.

use otel_rpc::InstrumentationOptions;
use std::hint::black_box;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use otel_rpc::{GrpcClientLayer, GrpcServerLayer};
use otel_rpc::{HttpClientLayer, HttpServerLayer};
use tower::{Layer, Service, ServiceExt};

use crate::micro::{Micro, time};
use crate::ops::grpc::{EchoClient, EchoServer, EchoService, say};
use crate::pipeline::{Pipeline, unsampled_parent};
use crate::tracing_route::{Side, TracingLayer};

/// The `traceparent` of a sampled remote caller (server-side rows).
const SAMPLED_TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Row name: the HTTP call without layers.
pub const HTTP_RAW: &str = "HTTP in-process: raw (axum Router, empty handler, no layers)";
/// Row name: our HTTP client + server layers, sampled.
pub const HTTP_PAIR_SAMPLED: &str = "HTTP in-process: otel-rpc client + server layers, sampled";
/// Row name: our HTTP client + server layers, unsampled parent.
pub const HTTP_PAIR_UNSAMPLED: &str =
    "HTTP in-process: otel-rpc client + server layers, unsampled parent";
/// Row name: the `tracing` route's HTTP pair.
pub const HTTP_PAIR_TRACING: &str =
    "HTTP in-process: tracing route client + server layers (no metric)";
/// Row name: the HTTP call without layers, request carrying a `traceparent`.
pub const HTTP_SERVER_RAW: &str = "HTTP in-process, traceparent sent: raw";
/// Row name: our HTTP server layer alone.
pub const HTTP_SERVER_OURS: &str = "HTTP in-process, traceparent sent: otel-rpc server layer";
/// Row name: the `tracing` route's server layer alone.
pub const HTTP_SERVER_TRACING: &str =
    "HTTP in-process, traceparent sent: tracing route server layer (no metric)";
/// Row name: opentelemetry-instrumentation-tower's server layer.
pub const HTTP_SERVER_TOWER: &str =
    "HTTP in-process, traceparent sent: opentelemetry-instrumentation-tower 0.19 server layer";
/// Row name: axum-tracing-opentelemetry's server layer.
pub const HTTP_SERVER_AXUM_TRACING: &str =
    "HTTP in-process, traceparent sent: axum-tracing-opentelemetry 0.42 OtelAxumLayer (no metric)";
/// Row name: the gRPC call without layers.
pub const GRPC_RAW: &str = "gRPC in-process: raw (tonic EchoServer, no layers)";
/// Row name: our gRPC client + server layers, sampled.
pub const GRPC_PAIR_SAMPLED: &str = "gRPC in-process: otel-rpc client + server layers, sampled";
/// Row name: our gRPC client + server layers, unsampled parent.
pub const GRPC_PAIR_UNSAMPLED: &str =
    "gRPC in-process: otel-rpc client + server layers, unsampled parent";
/// Row name: the `tracing` route's gRPC pair.
pub const GRPC_PAIR_TRACING: &str =
    "gRPC in-process: tracing route client + server layers (no metric)";

pub(crate) fn router() -> Router {
    Router::new().route("/users/{id}", get(|| async { "user" }))
}

fn request(traceparent: bool) -> http::Request<Full<Bytes>> {
    let mut req = http::Request::get("http://127.0.0.1:8080/users/42")
        .body(Full::new(Bytes::new()))
        .unwrap_or_default();
    if traceparent {
        req.headers_mut().insert(
            "traceparent",
            http::HeaderValue::from_static(SAMPLED_TRACEPARENT),
        );
    }
    req
}

/// One request through `svc`, its response body read to the end (the layers end their spans
/// there).
pub(crate) fn http_call<S, B>(rt: &tokio::runtime::Runtime, svc: &mut S, traceparent: bool)
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<B>>,
    B: http_body::Body,
{
    rt.block_on(async {
        let Ok(ready) = svc.ready().await else { return };
        let Ok(res) = ready.call(request(traceparent)).await else {
            return;
        };
        if let Ok(body) = res.into_body().collect().await {
            black_box(body.to_bytes());
        }
    });
}

/// One unary `Say` through `client`.
fn grpc_call<T>(rt: &tokio::runtime::Runtime, client: &mut EchoClient<T>)
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let _ = black_box(rt.block_on(client.say(say())));
}

/// Every in-process layer row (HTTP, then gRPC).
pub fn micro(p: &Pipeline, n: usize) -> Vec<Micro> {
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime for the in-process layer microbenchmarks: {e}");
            return Vec::new();
        }
    };
    let n = n / 4;
    let mut out = http(p, &rt, n);
    out.extend(grpc(p, &rt, n));
    out
}

fn http(p: &Pipeline, rt: &tokio::runtime::Runtime, n: usize) -> Vec<Micro> {
    let server_layer = HttpServerLayer::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build();
    let client_layer = HttpClientLayer::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build();
    let mut raw = router();
    let mut ours_server = router().layer(server_layer);
    let mut ours = client_layer.layer(ours_server.clone());
    let mut tracing_server = router().layer(TracingLayer::new(Side::Server, false));
    let mut tracing_pair = TracingLayer::new(Side::Client, false).layer(tracing_server.clone());
    let mut out = vec![
        time(HTTP_RAW, n, || http_call(rt, &mut raw, false)),
        time(HTTP_PAIR_SAMPLED, n, || http_call(rt, &mut ours, false)),
    ];
    {
        let _guard = unsampled_parent().attach();
        out.push(time(HTTP_PAIR_UNSAMPLED, n, || {
            http_call(rt, &mut ours, false)
        }));
    }
    out.push(time(HTTP_PAIR_TRACING, n, || {
        http_call(rt, &mut tracing_pair, false)
    }));
    out.push(time(HTTP_SERVER_RAW, n, || http_call(rt, &mut raw, true)));
    out.push(time(HTTP_SERVER_OURS, n, || {
        http_call(rt, &mut ours_server, true)
    }));
    out.push(time(HTTP_SERVER_TRACING, n, || {
        http_call(rt, &mut tracing_server, true)
    }));
    out.extend(crate::http_optin::rows(p, rt, n));
    #[cfg(feature = "alt-tower")]
    match opentelemetry_instrumentation_tower::http::server::LayerBuilder::builder().build() {
        Ok(layer) => {
            let mut svc = router().layer(layer);
            out.push(time(HTTP_SERVER_TOWER, n, || http_call(rt, &mut svc, true)));
        }
        Err(e) => eprintln!("opentelemetry-instrumentation-tower layer: {e}"),
    }
    #[cfg(feature = "alt-axum-tracing")]
    {
        let mut svc =
            router().layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default());
        out.push(time(HTTP_SERVER_AXUM_TRACING, n, || {
            http_call(rt, &mut svc, true)
        }));
    }
    out
}

fn grpc(p: &Pipeline, rt: &tokio::runtime::Runtime, n: usize) -> Vec<Micro> {
    let server_layer = GrpcServerLayer::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build();
    let client_layer = GrpcClientLayer::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .server("127.0.0.1", Some(50051))
        .build();
    let mut raw = EchoClient::new(EchoServer::new(EchoService));
    let mut ours =
        EchoClient::new(client_layer.layer(server_layer.layer(EchoServer::new(EchoService))));
    let mut tracing_pair = EchoClient::new(
        TracingLayer::new(Side::Client, true)
            .layer(TracingLayer::new(Side::Server, true).layer(EchoServer::new(EchoService))),
    );
    let mut out = vec![
        time(GRPC_RAW, n, || grpc_call(rt, &mut raw)),
        time(GRPC_PAIR_SAMPLED, n, || grpc_call(rt, &mut ours)),
    ];
    {
        let _guard = unsampled_parent().attach();
        out.push(time(GRPC_PAIR_UNSAMPLED, n, || grpc_call(rt, &mut ours)));
    }
    out.push(time(GRPC_PAIR_TRACING, n, || {
        grpc_call(rt, &mut tracing_pair)
    }));
    out
}

/// `n` in-process calls (for callgrind): `http-raw`, `http-pair`, `grpc-raw`, `grpc-pair`
/// (sampled); `http-pair-global-meter` / `grpc-pair-global-meter`: the pairs with the layers
/// following the global meter provider (the same SDK provider, installed globally by the
/// pipeline), so their duration points are recorded with their attributes, not bound.
pub fn profile(p: &Pipeline, name: &str, n: usize) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    let explicit_meter = !name.ends_with("-global-meter");
    // The pipeline's providers, the meter provider only when given explicitly.
    macro_rules! providers {
        ($builder:expr) => {{
            let builder = $builder.tracer_provider(p.tracer_provider.clone());
            if explicit_meter {
                builder.meter_provider(p.meter_provider.clone())
            } else {
                builder
            }
        }};
    }
    match name {
        "http-raw" => {
            let mut svc = router();
            (0..n).for_each(|_| http_call(&rt, &mut svc, false));
        }
        "http-pair" | "http-pair-global-meter" => {
            let server = providers!(HttpServerLayer::builder()).build();
            let mut svc = providers!(HttpClientLayer::builder())
                .build()
                .layer(router().layer(server));
            (0..n).for_each(|_| http_call(&rt, &mut svc, false));
        }
        "grpc-raw" => {
            let mut client = EchoClient::new(EchoServer::new(EchoService));
            (0..n).for_each(|_| grpc_call(&rt, &mut client));
        }
        _ => {
            let server = providers!(GrpcServerLayer::builder()).build();
            let client = providers!(GrpcClientLayer::builder())
                .server("127.0.0.1", Some(50051))
                .build();
            let mut client =
                EchoClient::new(client.layer(server.layer(EchoServer::new(EchoService))));
            (0..n).for_each(|_| grpc_call(&rt, &mut client));
        }
    }
}
