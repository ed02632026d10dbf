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

mod client;
mod peer;
mod request_facts;
#[cfg(feature = "reqwest")]
mod reqwest;
mod server;

pub use client::{HttpClientFuture, HttpClientLayer, HttpClientOptions, HttpClientService};
pub use peer::{MAX_PEER_SERVICE_LEN, PEER_SERVICE_HEADER};
pub use request_facts::{REDACTED, redact_url};
#[cfg(feature = "reqwest")]
pub use reqwest::OtelMiddleware;
pub use server::{
    HttpServerFuture, HttpServerLayer, HttpServerOptions, HttpServerService, RouteFn,
};

#[cfg(feature = "grpc")]
pub(crate) use peer::{peer_service, send_service_name, service_header_value};
#[cfg(feature = "grpc")]
pub(crate) use request_facts::shared_str;
#[cfg(feature = "grpc")]
pub(crate) use server::panic_message;
