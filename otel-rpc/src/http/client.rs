//! [`HttpClientLayer`]: a client span and `http.client.request.duration` per request, and
//! context propagation into the request headers.

use super::protocol::HttpClient;
use crate::layer::peer::service_header_value;
use crate::layer::service::TraceService;
use crate::layer::trace_layer::LayerBuilder;
use crate::layer::trace_layer::TraceLayer;

impl LayerBuilder<HttpClient> {
    /// The methods recorded as themselves; others are `_OTHER` (see [`KnownMethods`](super::KnownMethods)).
    /// Default: `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`, else the conventions' set.
    pub fn known_methods(mut self, methods: super::KnownMethods) -> Self {
        self.options.known_methods = methods;
        self
    }

    /// Sends this service's name in the
    /// `PEER_SERVICE_HEADER` header, so the server's span
    /// records who called (`service.peer.name`). Off by default.
    pub fn service_name(mut self, name: &str) -> Self {
        self.options.service_name = service_header_value(name);
        self
    }
}

/// Tower layer tracing an HTTP client: one `CLIENT` span per request named `{method}`, child of
/// [`current_context`](crate::current_context), injected into the request headers (`traceparent`, `baggage`), ended when
/// the response head arrives. Any 4xx/5xx response or transport error is an error. Records
/// `http.client.request.duration`.
///
/// ```no_run
/// # async fn call() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use http_body_util::Empty;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use otel_rpc::HttpClientLayer;
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
pub type HttpClientLayer = TraceLayer<HttpClient>;

/// The service made by [`HttpClientLayer`].
pub type HttpClientService<S> = TraceService<S, HttpClient>;

impl TraceLayer<HttpClient> {
    #[cfg(feature = "reqwest")]
    pub(crate) fn shared(
        &self,
    ) -> std::sync::Arc<crate::layer::shared::Shared<super::protocol::HttpClientOptions>> {
        std::sync::Arc::clone(&self.shared)
    }
}
