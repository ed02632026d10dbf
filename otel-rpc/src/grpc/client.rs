//! [`GrpcClientLayer`]: a client span and `rpc.client.call.duration` per call, and context
//! propagation into the request metadata.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::method::call_attributes;
use super::server::traced_response;
use super::status::{GrpcSide, code_name};
use crate::http::{send_service_name, service_header_value};
use crate::layer::{HeaderInjector, LayerBuilder, Shared, TracedBody, error_type_of};
use crate::{DurationMetric, Failure, Outcome, Recording, current_context};

/// Options specific to [`GrpcClientLayer`]; set them on its [`LayerBuilder`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GrpcClientOptions {
    service_name: Option<HeaderValue>,
    /// `server.address` and `server.port` of the channel, built once.
    server: Vec<KeyValue>,
}

impl LayerBuilder<GrpcClientOptions> {
    /// Sends this service's name in the
    /// [`PEER_SERVICE_HEADER`](crate::http::PEER_SERVICE_HEADER) metadata, so the server's
    /// span records who called (`service.peer.name`). Off by default.
    pub fn service_name(mut self, name: &str) -> Self {
        self.options.service_name = service_header_value(name);
        self
    }

    /// The `server.address` / `server.port` of the channel. A layer above a tonic `Channel`
    /// sees only the request path, so tell it where the channel points (requests whose URI
    /// has a host use that instead).
    pub fn server(mut self, address: impl Into<String>, port: Option<u16>) -> Self {
        let address: String = address.into();
        self.options.server = vec![KeyValue::new(
            attribute::SERVER_ADDRESS,
            crate::http::shared_str(&address),
        )];
        if let Some(port) = port {
            self.options
                .server
                .push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
        }
        self
    }

    /// Builds the layer.
    pub fn build(self) -> GrpcClientLayer {
        GrpcClientLayer {
            shared: self.into_shared(),
        }
    }
}

/// Tower layer tracing a gRPC client: one `CLIENT` span per call named
/// `{package.Service}/{Method}`, child of [`current_context`], injected into the request
/// metadata, ended when the response stream ends. Every status but `OK` is an error. Records
/// `rpc.client.call.duration`.
///
/// ```no_run
/// # async fn call() -> Result<(), Box<dyn std::error::Error>> {
/// use otel_rpc::grpc::GrpcClientLayer;
/// use tower::ServiceBuilder;
///
/// let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50051")
///     .connect()
///     .await?;
/// let channel = ServiceBuilder::new()
///     .layer(GrpcClientLayer::builder().server("127.0.0.1", Some(50051)).build())
///     .service(channel);
/// // let mut client = GreeterClient::new(channel);
/// # let _ = channel; Ok(()) }
/// ```
#[derive(Clone)]
pub struct GrpcClientLayer {
    shared: Arc<Shared<GrpcClientOptions>>,
}

impl fmt::Debug for GrpcClientLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcClientLayer")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl Default for GrpcClientLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcClientLayer {
    /// A layer with default options and the global providers.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the layer's options.
    pub fn builder() -> LayerBuilder<GrpcClientOptions> {
        LayerBuilder::new(
            SpanKind::Client,
            DurationMetric::rpc_client(),
            None,
            GrpcClientOptions::default(),
        )
    }
}

impl<S> Layer<S> for GrpcClientLayer {
    type Service = GrpcClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcClientService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service made by [`GrpcClientLayer`].
#[derive(Clone)]
pub struct GrpcClientService<S> {
    inner: S,
    shared: Arc<Shared<GrpcClientOptions>>,
}

impl<S: fmt::Debug> fmt::Debug for GrpcClientService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcClientService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for GrpcClientService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = GrpcClientFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let shared = &self.shared;
        let parent = current_context();
        send_service_name(&mut parts.headers, shared.options.service_name.as_ref());
        if !shared.hooks.traces(&parts) {
            shared
                .recorder
                .inject(&parent, &mut HeaderInjector(&mut parts.headers));
            let fut = self.inner.call(Request::from_parts(parts, body));
            return GrpcClientFuture {
                inner: fut.with_context(parent),
                recording: None,
            };
        }
        let (default_name, mut attributes) = call_attributes(parts.uri.path());
        match parts.uri.host() {
            Some(host) => {
                attributes.push(KeyValue::new(
                    attribute::SERVER_ADDRESS,
                    crate::http::shared_str(host),
                ));
                if let Some(port) = parts.uri.port_u16() {
                    attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
                }
            }
            // Shared strings: cloning them only bumps a count.
            None => attributes.extend(shared.options.server.iter().cloned()),
        }
        let name = shared.hooks.span_name(&parts).unwrap_or(default_name);
        shared.hooks.add_attributes(&parts, &mut attributes);
        let recording = shared.recorder.start(&parent, name, attributes);
        shared
            .recorder
            .inject(recording.context(), &mut HeaderInjector(&mut parts.headers));
        let fut = self.inner.call(Request::from_parts(parts, body));
        GrpcClientFuture {
            inner: fut.with_context(recording.context().clone()),
            recording: Some(recording),
        }
    }
}

pin_project! {
    /// The future of [`GrpcClientService`].
    pub struct GrpcClientFuture<F> {
        #[pin]
        inner: WithContext<F>,
        recording: Option<Recording>,
    }
}

impl<F: fmt::Debug> fmt::Debug for GrpcClientFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcClientFuture")
            .field("traced", &self.recording.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for GrpcClientFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    E: fmt::Display,
{
    type Output = Result<Response<TracedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        let Some(mut recording) = this.recording.take() else {
            return Poll::Ready(result.map(|res| res.map(TracedBody::untraced)));
        };
        Poll::Ready(match result {
            Ok(response) => Ok(traced_response(GrpcSide::Client, response, recording)),
            Err(error) => {
                // The call never reached the server: tonic reports transport failures as
                // UNAVAILABLE.
                recording.set_metric_attribute(KeyValue::new(
                    attribute::RPC_RESPONSE_STATUS_CODE,
                    code_name(14),
                ));
                recording.end(Outcome::Failure(
                    Failure::new(error_type_of::<E>()).with_message(error.to_string()),
                ));
                Err(error)
            }
        })
    }
}
