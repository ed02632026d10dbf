//! [`TraceLayer`] and [`TraceService`]: the one tower layer and service behind every
//! protocol. What differs per protocol is its [`Protocol`] implementation.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use opentelemetry::context::FutureExt as _;
use tower_layer::Layer;
use tower_service::Service;

use opentelemetry::trace::SpanKind;

use super::builder::{LayerBuilder, Shared};
use super::future::TraceFuture;
use super::protocol::{Protocol, Traced};
use super::rules::Side;
use super::{HeaderExtractor, HeaderInjector};
use crate::current_context;

/// The tracing layer of protocol `P`; named through its aliases
/// [`HttpServerLayer`](crate::http::HttpServerLayer),
/// [`HttpClientLayer`](crate::http::HttpClientLayer),
/// [`GrpcServerLayer`](crate::grpc::GrpcServerLayer) and
/// [`GrpcClientLayer`](crate::grpc::GrpcClientLayer).
pub struct TraceLayer<P: Protocol> {
    pub(crate) shared: Arc<Shared<P::Options>>,
}

impl<P: Protocol> Clone for TraceLayer<P> {
    fn clone(&self) -> Self {
        TraceLayer {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P: Protocol> fmt::Debug for TraceLayer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceLayer")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> TraceLayer<P> {
    /// A layer with default options and the global providers.
    pub fn new() -> Self {
        Self::builder().into_layer()
    }

    /// A builder for the layer's options.
    pub fn builder() -> LayerBuilder<P::Options> {
        let kind = match P::SIDE {
            Side::Server => SpanKind::Server,
            Side::Client => SpanKind::Client,
        };
        LayerBuilder::new(
            P::INSTRUMENTATION,
            kind,
            P::duration_metric(),
            None,
            P::Options::default(),
        )
    }
}

impl<P: Protocol> Default for TraceLayer<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, P: Protocol> Layer<S> for TraceLayer<P> {
    type Service = TraceService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService {
            inner,
            shared: Arc::clone(&self.shared),
            protocol: PhantomData,
        }
    }
}

/// The service made by a [`TraceLayer`]; named through its aliases
/// [`HttpServerService`](crate::http::HttpServerService),
/// [`HttpClientService`](crate::http::HttpClientService),
/// [`GrpcServerService`](crate::grpc::GrpcServerService) and
/// [`GrpcClientService`](crate::grpc::GrpcClientService) (e.g. a layered tonic channel is a
/// `GrpcClientService<Channel>`).
pub struct TraceService<S, P: Protocol> {
    inner: S,
    shared: Arc<Shared<P::Options>>,
    protocol: PhantomData<fn() -> P>,
}

impl<S: Clone, P: Protocol> Clone for TraceService<S, P> {
    fn clone(&self) -> Self {
        TraceService {
            inner: self.inner.clone(),
            shared: Arc::clone(&self.shared),
            protocol: PhantomData,
        }
    }
}

impl<S: fmt::Debug, P: Protocol> fmt::Debug for TraceService<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, P, ReqBody, ResBody> Service<Request<ReqBody>> for TraceService<S, P>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display + 'static,
    ResBody: http_body::Body,
    P: Protocol,
{
    type Response = Response<P::ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = TraceFuture<S::Future, P>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let (cx, traced) = start::<P>(&self.shared, &mut parts);
        // The inner `call` runs under the span too: layers that start their work there (e.g.
        // tower-http's `TraceLayer` creates its `tracing` span in `call`) nest under it.
        let fut = {
            let _attached = cx.clone().attach();
            self.inner.call(Request::from_parts(parts, body))
        };
        TraceFuture::new(fut.with_context(cx), traced)
    }
}

/// Starts the span of a request (unless the filter rejects it) and propagates context: a
/// server extracts its parent from the request, a client injects its span (or, when not
/// traced, the current context) into it. Returns the context to run the inner call under.
fn start<P: Protocol>(
    shared: &Shared<P::Options>,
    parts: &mut Parts,
) -> (opentelemetry::Context, Option<Traced<P::Call>>) {
    if !shared.enabled {
        return (opentelemetry::Context::current(), None);
    }
    P::prepare(&shared.options, parts);
    let traced = shared.hooks.traces(parts);
    let parent = match P::SIDE {
        Side::Server if !traced => return (opentelemetry::Context::current(), None),
        Side::Server => shared.recorder.extract(&HeaderExtractor(&parts.headers)),
        Side::Client => current_context(),
    };
    if !traced {
        shared
            .recorder
            .inject(&parent, &mut HeaderInjector(&mut parts.headers));
        return (parent, None);
    }
    let (mut recording, call) = P::begin(shared, &parent, parts);
    shared.rules.capture.request(&parts.headers, &recording);
    crate::http::body_metrics::note_request(&mut recording, &parts.headers);
    if P::SIDE == Side::Client {
        shared
            .recorder
            .inject(recording.context(), &mut HeaderInjector(&mut parts.headers));
    }
    let cx = recording.context().clone();
    (
        cx,
        Some(Traced {
            recording,
            call,
            rules: Arc::clone(&shared.rules),
        }),
    )
}
