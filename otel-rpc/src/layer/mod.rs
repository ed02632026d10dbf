//! The one tracing layer behind every protocol: [`TraceLayer`] / [`TraceService`] /
//! [`TraceFuture`] / [`TracedBody`], parameterised by a [`Protocol`] (HTTP server or client,
//! gRPC server or client: what differs between them, nothing else) and configured with a
//! [`LayerBuilder`]; plus `http::HeaderMap` carriers for the propagators.
//!
//! Users name the protocol aliases (`HttpServerLayer`, `GrpcClientService<Channel>`, ...),
//! rarely these generic types.

pub(crate) mod body;
pub(crate) mod future;
pub(crate) mod headers;
pub(crate) mod peer;
pub(crate) mod protocol;
pub(crate) mod rules;
pub(crate) mod series;
pub(crate) mod service;
pub(crate) mod shared;
pub(crate) mod trace_layer;
pub(crate) mod values;
