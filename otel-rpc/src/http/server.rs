//! [`HttpServerLayer`]: a server span and `http.server.request.duration` per request.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::request::Parts;
use http::{Request, Response, header};
use opentelemetry::KeyValue;
use opentelemetry::context::{FutureExt as _, WithContext};
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::peer::peer_service;
use super::request_facts::{method, protocol_version, scheme_value, server_host_port, shared_str};
use crate::layer::{Completion, HeaderExtractor, LayerBuilder, Shared, TracedBody, error_type_of};
use crate::{DurationMetric, Failure, Outcome, Recording};

/// The route template of a request, e.g. `/users/{id}`.
pub type RouteFn = Arc<dyn Fn(&Parts) -> Option<Cow<'static, str>> + Send + Sync>;

/// Options specific to [`HttpServerLayer`]; set them on its [`LayerBuilder`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct HttpServerOptions {
    route: Option<RouteFn>,
    trust_forwarded_for: bool,
}

impl fmt::Debug for HttpServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerOptions")
            .field("route_fn", &self.route.is_some())
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .finish()
    }
}

impl LayerBuilder<HttpServerOptions> {
    /// Finds the route template of requests that axum's `MatchedPath` does not name (plain
    /// hyper services, or axum without the `axum` feature). Return a template such as
    /// `/users/{id}`, never the raw path.
    pub fn route<F>(mut self, f: F) -> Self
    where
        F: Fn(&Parts) -> Option<Cow<'static, str>> + Send + Sync + 'static,
    {
        self.options.route = Some(Arc::new(f));
        self
    }

    /// Takes `client.address` from the first `X-Forwarded-For` entry. Only enable behind a
    /// proxy you trust to set it; the socket peer then goes to `network.peer.address`.
    pub fn trust_forwarded_for(mut self, trust: bool) -> Self {
        self.options.trust_forwarded_for = trust;
        self
    }

    /// Builds the layer.
    pub fn build(self) -> HttpServerLayer {
        HttpServerLayer {
            shared: self.into_shared(),
        }
    }
}

/// Tower layer tracing an HTTP server: one `SERVER` span per request, named `{method} {route}`,
/// parented to the context the client propagated, current while the handler runs, and ended
/// when the response body has been sent. Records `http.server.request.duration`.
///
/// 5xx responses, service errors and handler panics are errors; 4xx responses are not (they
/// are the client's fault). A panic is recorded with `error.type` `panic` and then resumed.
///
/// With axum (feature `axum`), add it with `Router::layer` so the route template
/// (`MatchedPath`) and `ConnectInfo` are known:
///
/// ```no_run
/// # #[cfg(feature = "axum")]
/// # async fn serve() -> std::io::Result<()> {
/// use axum::{Router, routing::get};
/// use otel_rpc::http::HttpServerLayer;
///
/// let app = Router::new()
///     .route("/users/{id}", get(|| async { "user" }))
///     .layer(HttpServerLayer::builder().filter(|req| req.uri.path() != "/healthz").build());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
#[derive(Clone)]
pub struct HttpServerLayer {
    shared: Arc<Shared<HttpServerOptions>>,
}

impl fmt::Debug for HttpServerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerLayer")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl Default for HttpServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpServerLayer {
    /// A layer with default options and the global providers.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for the layer's options.
    pub fn builder() -> LayerBuilder<HttpServerOptions> {
        LayerBuilder::new(
            SpanKind::Server,
            DurationMetric::http_server(),
            None,
            HttpServerOptions::default(),
        )
    }
}

impl<S> Layer<S> for HttpServerLayer {
    type Service = HttpServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpServerService {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service made by [`HttpServerLayer`].
#[derive(Clone)]
pub struct HttpServerService<S> {
    inner: S,
    shared: Arc<Shared<HttpServerOptions>>,
}

impl<S: fmt::Debug> fmt::Debug for HttpServerService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for HttpServerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = HttpServerFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let (parts, body) = req.into_parts();
        if !self.shared.hooks.traces(&parts) {
            let fut = self.inner.call(Request::from_parts(parts, body));
            return HttpServerFuture {
                inner: fut.with_context(opentelemetry::Context::current()),
                recording: None,
            };
        }
        let recording = start(&self.shared, &parts);
        let fut = self.inner.call(Request::from_parts(parts, body));
        HttpServerFuture {
            inner: fut.with_context(recording.context().clone()),
            recording: Some(recording),
        }
    }
}

fn start(shared: &Shared<HttpServerOptions>, parts: &Parts) -> Recording {
    let recorder = &shared.recorder;
    let parent = recorder.extract(&HeaderExtractor(&parts.headers));
    let (method, original_method) = method(&parts.method);
    let route = matched_path(parts)
        .or_else(|| shared.options.route.as_ref().and_then(|route| route(parts)));
    let name = match (shared.hooks.span_name(parts), &route) {
        (Some(name), _) => name,
        (None, Some(route)) => {
            let mut name = String::with_capacity(method.len() + 1 + route.len());
            name.push_str(method);
            name.push(' ');
            name.push_str(route);
            Cow::Owned(name)
        }
        (None, None) => Cow::Borrowed(method),
    };
    let scheme = parts.uri.scheme_str().unwrap_or("http");
    let mut attributes = Vec::with_capacity(10);
    attributes.push(KeyValue::new(attribute::HTTP_REQUEST_METHOD, method));
    attributes.push(KeyValue::new(attribute::URL_SCHEME, scheme_value(scheme)));
    if let Some(route) = route {
        let route = match route {
            Cow::Borrowed(route) => opentelemetry::Value::from(route),
            Cow::Owned(route) => shared_str(&route),
        };
        attributes.push(KeyValue::new(attribute::HTTP_ROUTE, route));
    }
    if let Some((host, port)) = server_host_port(&parts.uri, &parts.headers) {
        attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, shared_str(host)));
        if let Some(port) = port {
            attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
        }
    }
    if let Some(version) = protocol_version(parts.version) {
        attributes.push(KeyValue::new(attribute::NETWORK_PROTOCOL_VERSION, version));
    }
    shared.hooks.add_attributes(parts, &mut attributes);
    recorder.start_with(&parent, None, name, attributes, |details| {
        details.push(KeyValue::new(
            attribute::URL_PATH,
            parts.uri.path().to_owned(),
        ));
        if let Some(original) = original_method {
            details.push(KeyValue::new(
                attribute::HTTP_REQUEST_METHOD_ORIGINAL,
                original.to_owned(),
            ));
        }
        if let Some(agent) = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            details.push(KeyValue::new(
                attribute::USER_AGENT_ORIGINAL,
                agent.to_owned(),
            ));
        }
        client_address(parts, shared.options.trust_forwarded_for, details);
        if let Some(peer) = peer_service(&parts.headers) {
            details.push(KeyValue::new(attribute::SERVICE_PEER_NAME, peer.to_owned()));
        }
    })
}

/// axum's route template, when the request went through an axum router.
#[cfg(feature = "axum")]
fn matched_path(parts: &Parts) -> Option<Cow<'static, str>> {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|p| Cow::Owned(p.as_str().to_owned()))
}

#[cfg(not(feature = "axum"))]
fn matched_path(_parts: &Parts) -> Option<Cow<'static, str>> {
    None
}

const X_FORWARDED_FOR: http::HeaderName = http::HeaderName::from_static("x-forwarded-for");

fn client_address(parts: &Parts, trust_forwarded_for: bool, details: &mut Vec<KeyValue>) {
    #[cfg(feature = "axum")]
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    #[cfg(not(feature = "axum"))]
    let peer: Option<std::net::SocketAddr> = None;
    let forwarded = trust_forwarded_for
        .then(|| {
            parts
                .headers
                .get(X_FORWARDED_FOR)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 64)
        })
        .flatten();
    match (forwarded, peer) {
        (Some(client), peer) => {
            details.push(KeyValue::new(attribute::CLIENT_ADDRESS, client.to_owned()));
            if let Some(peer) = peer {
                details.push(KeyValue::new(
                    attribute::NETWORK_PEER_ADDRESS,
                    peer.ip().to_string(),
                ));
                details.push(KeyValue::new(
                    attribute::NETWORK_PEER_PORT,
                    i64::from(peer.port()),
                ));
            }
        }
        (None, Some(peer)) => {
            details.push(KeyValue::new(
                attribute::CLIENT_ADDRESS,
                peer.ip().to_string(),
            ));
            details.push(KeyValue::new(
                attribute::CLIENT_PORT,
                i64::from(peer.port()),
            ));
        }
        (None, None) => {}
    }
}

pin_project! {
    /// The future of [`HttpServerService`]: runs the handler inside the span's context.
    pub struct HttpServerFuture<F> {
        #[pin]
        inner: WithContext<F>,
        recording: Option<Recording>,
    }
}

impl<F: fmt::Debug> fmt::Debug for HttpServerFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerFuture")
            .field("traced", &self.recording.is_some())
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for HttpServerFuture<F>
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
        let Some(mut recording) = this.recording.take() else {
            return Poll::Ready(result.map(|res| res.map(TracedBody::untraced)));
        };
        Poll::Ready(match result {
            Ok(response) => {
                let status = response.status();
                recording.set_metric_attribute(KeyValue::new(
                    attribute::HTTP_RESPONSE_STATUS_CODE,
                    i64::from(status.as_u16()),
                ));
                let outcome = if status.is_server_error() {
                    Outcome::Failure(Failure::new(status.as_str().to_owned()))
                } else {
                    Outcome::Success
                };
                Ok(response
                    .map(|body| TracedBody::new(body, recording, Completion::Known(outcome))))
            }
            Err(error) => {
                recording.end(Outcome::Failure(
                    Failure::new(error_type_of::<E>()).with_message(error.to_string()),
                ));
                Err(error)
            }
        })
    }
}

/// The text of a panic payload (`&str` or `String`), else a fixed text.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "the handler panicked".to_owned()
    }
}
