//! [`TraceService`]: the one tower service behind every protocol, made by a
//! [`TraceLayer`](super::trace_layer::TraceLayer). What differs per protocol is its [`Protocol`]
//! implementation.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response};
use opentelemetry::context::FutureExt as _;
use tower_service::Service;

use super::future::TraceFuture;
use super::headers::{HeaderExtractor, HeaderInjector};
use super::protocol::{Protocol, Traced};
use super::rules::Side;
use super::shared::Shared;
use crate::parent::current_context;
use crate::propagation::extractor::BoundedExtractor;

/// The service made by a [`TraceLayer`](super::trace_layer::TraceLayer); named through its aliases
/// `HttpServerService`,
/// `HttpClientService`,
/// `GrpcServerService` and
/// `GrpcClientService` (e.g. a layered tonic channel is a
/// `GrpcClientService<Channel>`).
pub struct TraceService<S, P: Protocol> {
    inner: S,
    shared: Arc<Shared<P::Options>>,
    protocol: PhantomData<fn() -> P>,
}

impl<S, P: Protocol> TraceService<S, P> {
    /// `inner` traced with what a layer shares.
    pub(crate) fn new(inner: S, shared: Arc<Shared<P::Options>>) -> Self {
        TraceService {
            inner,
            shared,
            protocol: PhantomData,
        }
    }
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
        // `SpanRecorder::extract`, with the strict view reading the header map directly.
        Side::Server => shared.recorder.propagator().extract_with_context(
            &opentelemetry::Context::new(),
            &BoundedExtractor::headers(&HeaderExtractor(&parts.headers), &parts.headers),
        ),
        Side::Client => current_context(),
    };
    if !traced {
        shared
            .recorder
            .inject(&parent, &mut HeaderInjector(&mut parts.headers));
        return (parent, None);
    }
    let (recording, call) = P::begin(shared, &parent, parts);
    shared.rules.capture.request(&parts.headers, &recording);
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
