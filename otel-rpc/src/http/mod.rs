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

pub(crate) mod body_metrics;
pub(crate) mod body_sizes;
pub(crate) mod client;
pub(crate) mod known_methods;
pub(crate) mod protocol;
pub(crate) mod request_facts;
#[cfg(feature = "reqwest")]
pub(crate) mod reqwest;
pub(crate) mod routes;
pub(crate) mod server;

pub(crate) use known_methods::KnownMethods;
