//! [`HttpClientLayer`]: a client span and `http.client.request.duration` per request, and
//! context propagation into the request headers.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::request::Parts;
use http::{Request, Response, header};
use opentelemetry::KeyValue;
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::peer::{send_service_name, service_header_value};
use super::request_facts::{default_port, method, redact_url, scheme_value, shared_str};
use crate::layer::{HeaderInjector, LayerBuilder, Shared, error_type_of};
use crate::{DurationMetric, Failure, Outcome, Recording, current_context};

/// Options specific to [`HttpClientLayer`]; set them on its [`LayerBuilder`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct HttpClientOptions {
    pub(crate) service_name: Option<HeaderValue>,
}

impl fmt::Debug for HttpClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientOptions")
            .field("service_name", &self.service_name)
            .finish()
    }
}

impl LayerBuilder<HttpClientOptions> {
    /// Sends this service's name in the
    /// [`PEER_SERVICE_HEADER`](super::PEER_SERVICE_HEADER) header, so the server's span
    /// records who called (`service.peer.name`). Off by default.
    pub fn service_name(mut self, name: &str) -> Self {
        self.options.service_name = service_header_value(name);
        self
    }

    /// Builds the layer.
    pub fn build(self) -> HttpClientLayer {
        HttpClientLayer {
            shared: self.into_shared(),
        }
    }
}

/// Tower layer tracing an HTTP client: one `CLIENT` span per request named `{method}`, child of
/// [`current_context`], injected into the request headers (`traceparent`, `baggage`), ended when
/// the response head arrives. Any 4xx/5xx response or transport error is an error. Records
/// `http.client.request.duration`.
///
/// ```no_run
/// # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use otel_rpc::http::HttpClientLayer;
/// use tower::{Service, ServiceBuilder, ServiceExt};
///
/// let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
/// let mut client = ServiceBuilder::new()
///     .layer(HttpClientLayer::builder().service_name("checkout").build())
///     .service(client);
/// let request = http::Request::get("http://127.0.0.1:8080/users/7").body(Empty::new())?;
/// let response = client.ready().await?.call(request).await?;
/// # let _ = response; Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClientLayer {
    shared: Arc<Shared<HttpClientOptions>>,
}

impl fmt::Debug for HttpClientLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientLayer")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClientLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClientLayer {
    #[cfg(feature = "reqwest")]
    pub(crate) fn shared(&self) -> Arc<Shared<HttpClientOptions>> {
        Arc::clone(&self.shared)
    }

    /// A layer with default options and the global providers.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the layer's options.
    pub fn builder() -> LayerBuilder<HttpClientOptions> {
        LayerBuilder::new(
            SpanKind::Client,
            DurationMetric::http_client(),
            None,
            HttpClientOptions::default(),
        )
    }
}

impl<S> Layer<S> for HttpClientLayer {
    type Service = HttpClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpClientService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service made by [`HttpClientLayer`].
#[derive(Clone)]
pub struct HttpClientService<S> {
    inner: S,
    shared: Arc<Shared<HttpClientOptions>>,
}

impl<S: fmt::Debug> fmt::Debug for HttpClientService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpClientService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = HttpClientFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let parent = current_context();
        let shared = &self.shared;
        send_service_name(&mut parts.headers, shared.options.service_name.as_ref());
        if !shared.hooks.traces(&parts) {
            shared
                .recorder
                .inject(&parent, &mut HeaderInjector(&mut parts.headers));
            let fut = self.inner.call(Request::from_parts(parts, body));
            return HttpClientFuture {
                inner: fut.with_context(parent),
                recording: None,
            };
        }
        let recording = start_client(shared, &parent, &parts);
        shared
            .recorder
            .inject(recording.context(), &mut HeaderInjector(&mut parts.headers));
        let fut = self.inner.call(Request::from_parts(parts, body));
        HttpClientFuture {
            inner: fut.with_context(recording.context().clone()),
            recording: Some(recording),
        }
    }
}

/// What a client span needs to know about its request; shared with the reqwest middleware.
pub(crate) struct ClientRequest<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) scheme: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) port: Option<u16>,
    pub(crate) url: &'a dyn Fn() -> String,
    pub(crate) user_agent: Option<&'a str>,
}

fn start_client(
    shared: &Shared<HttpClientOptions>,
    parent: &opentelemetry::Context,
    parts: &Parts,
) -> Recording {
    let url = || parts.uri.to_string();
    let request = ClientRequest {
        method: &parts.method,
        scheme: parts.uri.scheme_str(),
        host: parts.uri.host(),
        port: parts.uri.port_u16(),
        url: &url,
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    };
    let name = shared.hooks.span_name(parts);
    let mut extra = Vec::new();
    shared.hooks.add_attributes(parts, &mut extra);
    start_client_span(&shared.recorder, parent, &request, name, extra)
}

/// Starts a client span from the facts of a request.
pub(crate) fn start_client_span(
    recorder: &crate::SpanRecorder,
    parent: &opentelemetry::Context,
    request: &ClientRequest<'_>,
    name: Option<Cow<'static, str>>,
    extra: Vec<KeyValue>,
) -> Recording {
    let (method, original_method) = method(request.method);
    let mut attributes = Vec::with_capacity(6 + extra.len());
    attributes.push(KeyValue::new(attribute::HTTP_REQUEST_METHOD, method));
    if let Some(host) = request.host {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, shared_str(host)));
    }
    if let Some(port) = request
        .port
        .or_else(|| request.scheme.and_then(default_port))
    {
        attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
    }
    if let Some(scheme) = request.scheme {
        attributes.push(KeyValue::new(attribute::URL_SCHEME, scheme_value(scheme)));
    }
    attributes.extend(extra);
    let name = name.unwrap_or(Cow::Borrowed(method));
    recorder.start_with(parent, None, name, attributes, |details| {
        details.push(KeyValue::new(
            attribute::URL_FULL,
            redact_url(&(request.url)()),
        ));
        if let Some(original) = original_method {
            details.push(KeyValue::new(
                attribute::HTTP_REQUEST_METHOD_ORIGINAL,
                original.to_owned(),
            ));
        }
        if let Some(agent) = request.user_agent {
            details.push(KeyValue::new(
                attribute::USER_AGENT_ORIGINAL,
                agent.to_owned(),
            ));
        }
    })
}

/// Ends a client span with the response status: 4xx and 5xx are errors.
pub(crate) fn end_with_status(mut recording: Recording, status: http::StatusCode) {
    recording.set_metric_attribute(KeyValue::new(
        attribute::HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if status.is_client_error() || status.is_server_error() {
        recording.end(Outcome::Failure(Failure::new(status.as_str().to_owned())));
    } else {
        recording.end(Outcome::Success);
    }
}

pin_project! {
    /// The future of [`HttpClientService`].
    pub struct HttpClientFuture<F> {
        #[pin]
        inner: WithContext<F>,
        recording: Option<Recording>,
    }
}

impl<F: fmt::Debug> fmt::Debug for HttpClientFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientFuture")
            .field("traced", &self.recording.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for HttpClientFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Some(recording) = this.recording.take() {
            match &result {
                Ok(response) => end_with_status(recording, response.status()),
                Err(error) => recording.end(Outcome::Failure(
                    Failure::new(error_type_of::<E>()).with_message(error.to_string()),
                )),
            }
        }
        Poll::Ready(result)
    }
}
