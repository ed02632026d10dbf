//! The one tracing layer behind every protocol: [`TraceLayer`] / [`TraceService`] /
//! [`TraceFuture`] / [`TracedBody`], parameterised by a [`Protocol`] (HTTP server or client,
//! gRPC server or client: what differs between them, nothing else) and configured with a
//! [`LayerBuilder`]; plus `http::HeaderMap` carriers for the propagators.
//!
//! Users name the protocol aliases (`HttpServerLayer`, `GrpcClientService<Channel>`, ...),
//! rarely these generic types.

pub(crate) mod body;
pub(crate) mod bounded;
pub(crate) mod builder;
mod future;
mod headers;
pub(crate) mod protocol;
pub(crate) mod rules;
mod service;

pub use body::TracedBody;
pub use builder::{AttributesFn, FilterFn, LayerBuilder, SpanNameFn};
pub use future::TraceFuture;
pub use headers::{HeaderExtractor, HeaderInjector};
pub use protocol::Protocol;
pub use rules::Side;
pub use service::{TraceLayer, TraceService};

/// The shared options vocabulary, re-exported for layer users.
pub use crate::options::InstrumentationOptions;

#[cfg(feature = "reqwest")]
pub(crate) use builder::Shared;
