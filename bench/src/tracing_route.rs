//! Route (c) for HTTP and gRPC: what a Rust user builds today with `tracing` spans bridged by
//! `tracing-opentelemetry`: a tower service that opens an `info_span!` per request, propagates
//! W3C trace context through the headers and records the response status.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Which side of the call the span describes.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    /// Extracts the parent from the request headers.
    Server,
    /// Injects the span's context into the request headers.
    Client,
}

/// Wraps services in [`TracingService`].
#[derive(Debug, Clone, Copy)]
pub struct TracingLayer {
    side: Side,
    grpc: bool,
}

impl TracingLayer {
    /// HTTP (`{method} {route}`) or gRPC (`{service}/{method}`) spans on `side`.
    pub fn new(side: Side, grpc: bool) -> Self {
        TracingLayer { side, grpc }
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = TracingService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        TracingService {
            inner,
            side: self.side,
            grpc: self.grpc,
        }
    }
}

/// See [`TracingLayer`].
#[derive(Debug, Clone)]
pub struct TracingService<S> {
    inner: S,
    side: Side,
    grpc: bool,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, RB> Service<http::Request<B>> for TracingService<S>
where
    S: Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    RB: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let path = req.uri().path();
        let span = match (self.side, self.grpc) {
            (Side::Server, false) => tracing::info_span!(
                "HTTP request",
                otel.name = format!("{} /users/{{id}}", req.method()),
                otel.kind = "server",
                http.request.method = %req.method(),
                http.route = "/users/{id}",
                url.path = path,
                url.scheme = "http",
                http.response.status_code = tracing::field::Empty,
            ),
            (Side::Client, false) => tracing::info_span!(
                "HTTP request",
                otel.name = %req.method(),
                otel.kind = "client",
                http.request.method = %req.method(),
                url.full = %req.uri(),
                http.response.status_code = tracing::field::Empty,
            ),
            (side, true) => tracing::info_span!(
                "gRPC call",
                otel.name = path.trim_start_matches('/'),
                otel.kind = if matches!(side, Side::Server) {
                    "server"
                } else {
                    "client"
                },
                rpc.system.name = "grpc",
                rpc.method = path.trim_start_matches('/'),
                http.response.status_code = tracing::field::Empty,
            ),
        };
        let propagator = TraceContextPropagator::new();
        match self.side {
            Side::Server => {
                let parent = propagator.extract(&HeaderExtractor(req.headers()));
                let _ = span.set_parent(parent);
            }
            Side::Client => {
                propagator.inject_context(&span.context(), &mut HeaderInjector(req.headers_mut()));
            }
        }
        let fut = span.in_scope(|| self.inner.call(req));
        Box::pin(
            async move {
                let res = fut.await;
                if let Ok(r) = &res {
                    tracing::Span::current()
                        .record("http.response.status_code", r.status().as_u16());
                }
                res
            }
            .instrument(span),
        )
    }
}
