//! [`HttpServerLayer`]: a server span and `http.server.request.duration` per request.

use std::borrow::Cow;
use std::sync::Arc;

use http::request::Parts;

use super::protocol::HttpServer;
use crate::layer::trace_layer::LayerBuilder;
use crate::layer::trace_layer::TraceLayer;
use crate::metric::bounded::BoundedValues;

/// Most distinct `host:port` pairs recorded as `server.address` / `server.port` on
/// `http.server.request.duration` when [`metric_server_address`](LayerBuilder::metric_server_address)
/// is on; later ones are `_OTHER` (without a port).
pub const MAX_METRIC_SERVER_ADDRESSES: usize = 16;

impl LayerBuilder<HttpServer> {
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

    /// The methods recorded as themselves; others are `_OTHER` (see [`KnownMethods`](super::KnownMethods)).
    /// Default: `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`, else the conventions' set.
    pub fn known_methods(mut self, methods: super::KnownMethods) -> Self {
        self.options.known_methods = methods;
        self
    }

    /// Takes `client.address` from the first `X-Forwarded-For` entry. Only enable behind a
    /// proxy you trust to set it; the socket peer then goes to `network.peer.address`.
    pub fn trust_forwarded_for(mut self, trust: bool) -> Self {
        self.options.trust_forwarded_for = trust;
        self
    }

    /// Also records `server.address` / `server.port` on `http.server.request.duration`
    /// (opt-in in the conventions; off by default). The value comes from the request URI or
    /// `Host` header, which the client chooses: only host-shaped values are taken, and only
    /// the first 16 distinct `host:port` pairs; later ones are
    /// recorded as `_OTHER`. The span carries the (shape-checked) address either way.
    pub fn metric_server_address(mut self, on: bool) -> Self {
        if on {
            self.options.metric_server_addresses =
                Some(Arc::new(BoundedValues::new(MAX_METRIC_SERVER_ADDRESSES)));
            self.metric = self
                .metric
                .with_keys(crate::metric::HTTP_SERVER_METRIC_KEYS_WITH_SERVER_ADDRESS);
        } else {
            self.options.metric_server_addresses = None;
            self.metric = self
                .metric
                .with_keys(crate::metric::HTTP_SERVER_METRIC_KEYS);
        }
        self
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
/// use otel_rpc::HttpServerLayer;
///
/// let app = Router::new()
///     .route("/users/{id}", get(|| async { "user" }))
///     .layer(HttpServerLayer::builder().filter(|req| req.uri.path() != "/healthz").build());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// axum::serve(listener, app).await
/// # }
/// ```
pub type HttpServerLayer = TraceLayer<HttpServer>;
