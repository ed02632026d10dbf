//! HTTP: `GET /users/{id}` from a hyper client to an axum server in the same process. Raw:
//! no layers; instrumented: `HttpServerLayer` + `HttpClientLayer`; route (c): the
//! `tracing` layer of [`crate::tracing_route`] on both sides. Three servers, one per stack.

use otel_rpc::InstrumentationOptions;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use otel_rpc::{HttpClientLayer, HttpServerLayer};
use tower::{Service, ServiceBuilder, ServiceExt};

use super::{Plan, check, with_parent};
use crate::measure::{Comparison, Variant, compare};
use crate::pipeline::Pipeline;
use crate::tracing_route::{Side, TracingLayer};

type RawClient = Client<HttpConnector, Full<Bytes>>;

fn app() -> Router {
    Router::new().route("/users/{id}", get(|| async { "user" }))
}

async fn serve(app: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let make = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, make).await {
            eprintln!("http server stopped: {e}");
        }
    });
    Ok(addr)
}

async fn request<S>(client: &mut S, addr: SocketAddr)
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<hyper::body::Incoming>>,
    S::Error: std::fmt::Display,
{
    let req =
        check(http::Request::get(format!("http://{addr}/users/42")).body(Full::new(Bytes::new())));
    let client = check(client.ready().await);
    let res = check(client.call(req).await);
    let body = check(res.into_body().collect().await).to_bytes();
    std::hint::black_box(body);
}

/// The HTTP comparison.
pub async fn bench(p: &Pipeline, plan: Plan) -> std::io::Result<Vec<Comparison>> {
    let raw_addr = serve(app()).await?;
    let otel_addr = serve(
        app().layer(
            HttpServerLayer::builder()
                .tracer_provider(p.tracer_provider.clone())
                .meter_provider(p.meter_provider.clone())
                .build(),
        ),
    )
    .await?;
    let tracing_addr = serve(app().layer(TracingLayer::new(Side::Server, false))).await?;
    // The Rust alternatives ([`Variant::Alt`]): server side only, a raw client calls them.
    #[allow(unused_mut)] // empty without the alternative features
    let mut alts: Vec<(&str, SocketAddr)> = Vec::new();
    #[cfg(feature = "alt-tower")]
    match opentelemetry_instrumentation_tower::http::server::LayerBuilder::builder().build() {
        Ok(layer) => alts.push((
            "(d) opentelemetry-instrumentation-tower 0.19, server layer only (no client span or metric)",
            serve(app().layer(layer)).await?,
        )),
        Err(e) => eprintln!("opentelemetry-instrumentation-tower layer: {e}"),
    }
    #[cfg(feature = "alt-axum-tracing")]
    alts.push((
        "(e) axum-tracing-opentelemetry 0.42 OtelAxumLayer, server only (tracing span, no metric, no client side)",
        serve(app().layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default()))
            .await?,
    ));
    let labels: Vec<&str> = alts.iter().map(|(label, _)| *label).collect();

    let raw_client: RawClient = Client::builder(TokioExecutor::new()).build_http();
    let mut raw = raw_client.clone();
    let mut otel = ServiceBuilder::new()
        .layer(
            HttpClientLayer::builder()
                .tracer_provider(p.tracer_provider.clone())
                .meter_provider(p.meter_provider.clone())
                .build(),
        )
        .service(raw_client.clone());
    let mut traced = ServiceBuilder::new()
        .layer(TracingLayer::new(Side::Client, false))
        .service(raw_client);

    let cmp = compare(
        "HTTP GET (axum + hyper)",
        plan.rounds,
        plan.ops(1000),
        &labels,
        async |v, n| {
            with_parent(v, async {
                for _ in 0..n {
                    match v {
                        Variant::Raw => request(&mut raw, raw_addr).await,
                        Variant::Sampled | Variant::Unsampled => {
                            request(&mut otel, otel_addr).await
                        }
                        Variant::Tracing => request(&mut traced, tracing_addr).await,
                        Variant::Alt(i) => request(&mut raw, alts[i].1).await,
                    }
                }
            })
            .await
        },
    )
    .await;
    Ok(vec![cmp])
}
