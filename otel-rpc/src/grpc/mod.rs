//! Tower layers tracing gRPC servers and clients, e.g. tonic (feature `grpc`).
//!
//! * [`GrpcServerLayer`] for `tonic::transport::Server::builder().layer(..)`: `SERVER` span
//!   `{package.Service}/{Method}`, parent extracted from the request metadata.
//! * [`GrpcClientLayer`] for channels, `ServiceBuilder::new().layer(..).service(channel)`:
//!   `CLIENT` span, context injected into the request metadata.
//!
//! Both record `rpc.system.name` = `grpc`, `rpc.method` and `rpc.response.status_code` (the
//! code name, e.g. `"NOT_FOUND"`), taken from the response head of trailers-only responses or
//! from the trailers at the end of the body; the span ends when the response stream ends.
//! Servers report errors only for the codes that mean the server failed (see
//! [`is_server_error`]); clients for any code but `OK`. Metrics `rpc.server.call.duration` /
//! `rpc.client.call.duration`.

mod client;
mod method;
mod server;
mod status;

pub use client::{GrpcClientFuture, GrpcClientLayer, GrpcClientOptions, GrpcClientService};
pub use server::{GrpcServerFuture, GrpcServerLayer, GrpcServerOptions, GrpcServerService};
pub use status::{code_name, is_server_error};

pub(crate) use status::{GrpcSide, outcome_from_trailers};
