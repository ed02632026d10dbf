//! Tower layers tracing HTTP servers and clients (feature `http`), and, with feature
//! `reqwest`, a `reqwest-middleware` middleware.
//!
//! * [`HttpServerLayer`]: `SERVER` span `{method} {route}` per request, parent extracted from
//!   the request headers, current while the handler runs, ended when the response body has
//!   been sent; `http.server.request.duration`.
//! * [`HttpClientLayer`]: `CLIENT` span `{method}`, context injected into the request
//!   headers; `http.client.request.duration`.
//! * [`OtelMiddleware`] (feature `reqwest`): the same client span for `reqwest`.
//!
//! Every layer is configured through a [`LayerBuilder`](crate::layer::LayerBuilder): providers,
//! propagator, span name, request filter, extra attributes.

pub mod body_metrics;
mod client;
mod known_methods;
mod peer;
pub(crate) mod request_facts;
#[cfg(feature = "reqwest")]
mod reqwest;
mod server;

pub use client::{
    HttpClient, HttpClientFuture, HttpClientLayer, HttpClientOptions, HttpClientService,
};
pub use known_methods::{
    DEFAULT_KNOWN_METHODS, KNOWN_METHODS_ENV, KnownMethods, MAX_KNOWN_METHODS,
};
pub use peer::{MAX_PEER_SERVICE_LEN, PEER_SERVICE_HEADER};
pub use request_facts::{REDACTED, redact_url};
#[cfg(feature = "reqwest")]
pub use reqwest::OtelMiddleware;
pub use server::{
    HttpServer, HttpServerFuture, HttpServerLayer, HttpServerOptions, HttpServerService,
    MAX_METRIC_SERVER_ADDRESSES, RouteFn,
};

#[cfg(feature = "grpc")]
pub(crate) use peer::service_header_value;
pub(crate) use peer::{peer_service, send_service_name};
#[cfg(feature = "grpc")]
pub(crate) use request_facts::shared_str;
