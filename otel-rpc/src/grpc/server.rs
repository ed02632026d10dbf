//! [`GrpcServerLayer`]: a server span and `rpc.server.call.duration` per call.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::method::call_attributes;
use super::status::{GrpcSide, outcome_for, status_in};
use crate::http::{panic_message, peer_service};
use crate::layer::{Completion, HeaderExtractor, LayerBuilder, Shared, TracedBody, error_type_of};
use crate::{DurationMetric, Failure, Outcome, Recording};

/// Options specific to [`GrpcServerLayer`] (none yet); set the common ones on its
/// [`LayerBuilder`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GrpcServerOptions {}

impl LayerBuilder<GrpcServerOptions> {
    /// Builds the layer.
    pub fn build(self) -> GrpcServerLayer {
        GrpcServerLayer {
            shared: self.into_shared(),
        }
    }
}

/// Tower layer tracing a gRPC server: one `SERVER` span per call named
/// `{package.Service}/{Method}`, parented to the context in the request metadata, current while
/// the handler runs, ended when the response stream ends. Handler panics are errors (then
/// resumed). Records `rpc.server.call.duration`.
///
/// ```no_run
/// # async fn serve<S>(service: S) -> Result<(), tonic::transport::Error>
/// # where S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
/// #   + tonic::server::NamedService + Clone + Send + Sync + 'static,
/// #   S::Response: axum::response::IntoResponse, S::Future: Send + 'static {
/// use otel_rpc::grpc::GrpcServerLayer;
///
/// tonic::transport::Server::builder()
///     .layer(GrpcServerLayer::new())
///     .add_service(service) // e.g. GreeterServer::new(MyGreeter)
///     .serve("127.0.0.1:50051".parse().expect("address"))
///     .await
/// # }
/// ```
#[derive(Clone)]
pub struct GrpcServerLayer {
    shared: Arc<Shared<GrpcServerOptions>>,
}

impl fmt::Debug for GrpcServerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcServerLayer")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl Default for GrpcServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcServerLayer {
    /// A layer with default options and the global providers.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the layer's options.
    pub fn builder() -> LayerBuilder<GrpcServerOptions> {
        LayerBuilder::new(
            SpanKind::Server,
            DurationMetric::rpc_server(),
            None,
            GrpcServerOptions::default(),
        )
    }
}

impl<S> Layer<S> for GrpcServerLayer {
    type Service = GrpcServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service made by [`GrpcServerLayer`].
#[derive(Clone)]
pub struct GrpcServerService<S> {
    inner: S,
    shared: Arc<Shared<GrpcServerOptions>>,
}

impl<S: fmt::Debug> fmt::Debug for GrpcServerService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcServerService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcServerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = GrpcServerFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (parts, body) = req.into_parts();
        let shared = &self.shared;
        if !shared.hooks.traces(&parts) {
            let fut = self.inner.call(Request::from_parts(parts, body));
            return GrpcServerFuture {
                inner: fut.with_context(opentelemetry::Context::current()),
                recording: None,
            };
        }
        let parent = shared.recorder.extract(&HeaderExtractor(&parts.headers));
        let (default_name, mut attributes) = call_attributes(parts.uri.path());
        let name = shared.hooks.span_name(&parts).unwrap_or(default_name);
        shared.hooks.add_attributes(&parts, &mut attributes);
        let recording = shared
            .recorder
            .start_with(&parent, None, name, attributes, |details| {
                if let Some(peer) = peer_service(&parts.headers) {
                    details.push(KeyValue::new(attribute::SERVICE_PEER_NAME, peer.to_owned()));
                }
            });
        let fut = self.inner.call(Request::from_parts(parts, body));
        GrpcServerFuture {
            inner: fut.with_context(recording.context().clone()),
            recording: Some(recording),
        }
    }
}

pin_project! {
    /// The future of [`GrpcServerService`]: runs the handler inside the span's context.
    pub struct GrpcServerFuture<F> {
        #[pin]
        inner: WithContext<F>,
        recording: Option<Recording>,
    }
}

impl<F: fmt::Debug> fmt::Debug for GrpcServerFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcServerFuture")
            .field("traced", &self.recording.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for GrpcServerFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    E: fmt::Display,
{
    type Output = Result<Response<TracedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let result = match catch_unwind(AssertUnwindSafe(|| this.inner.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(panic) => {
                if let Some(recording) = this.recording.take() {
                    recording.end(Outcome::Failure(
                        Failure::new("panic").with_message(panic_message(panic.as_ref())),
                    ));
                }
                resume_unwind(panic)
            }
        };
        let Some(recording) = this.recording.take() else {
            return Poll::Ready(result.map(|res| res.map(TracedBody::untraced)));
        };
        Poll::Ready(match result {
            Ok(response) => Ok(traced_response(GrpcSide::Server, response, recording)),
            Err(error) => {
                recording.end(Outcome::Failure(
                    Failure::new(error_type_of::<E>()).with_message(error.to_string()),
                ));
                Err(error)
            }
        })
    }
}

/// Wraps a response so its span ends with the call's status: from the head of a trailers-only
/// response, else (for the client, from a non-200 HTTP status) or from the trailers.
pub(crate) fn traced_response<B: http_body::Body>(
    side: GrpcSide,
    response: Response<B>,
    mut recording: Recording,
) -> Response<TracedBody<B>> {
    let head_code = status_in(response.headers()).or_else(|| {
        (side == GrpcSide::Client && response.status() != http::StatusCode::OK)
            .then(|| super::status::code_from_http_status(response.status()))
    });
    let completion = match head_code {
        Some(code) => Completion::Known(outcome_for(
            side,
            &mut recording,
            code,
            Some(response.headers()),
        )),
        None => Completion::Grpc(side),
    };
    response.map(|body| TracedBody::new(body, recording, completion))
}
