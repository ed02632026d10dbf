//! Tower layers tracing gRPC servers and clients, e.g. tonic (feature `grpc`).
//!
//! * [`GrpcServerLayer`] for `tonic::transport::Server::builder().layer(..)`: `SERVER` span
//!   `{package.Service}/{Method}`, parent extracted from the request metadata.
//! * [`GrpcClientLayer`] for channels, `ServiceBuilder::new().layer(..).service(channel)`:
//!   `CLIENT` span, context injected into the request metadata; the layered channel is a
//!   [`GrpcClientService<Channel>`](GrpcClientService).
//!
//! Both record `rpc.system.name` = `grpc`, `rpc.method` and `rpc.response.status_code` (the
//! code name, e.g. `"NOT_FOUND"`), taken from the response head of trailers-only responses or
//! from the trailers at the end of the body; the span ends when the response stream ends.
//! Servers report errors only for the codes that mean the server failed (see
//! [`is_server_error`]); clients for any code but `OK`. The `grpc-message` (the peer's text)
//! is never recorded. Metrics `rpc.server.call.duration` / `rpc.client.call.duration`.

pub(crate) mod client;
pub(crate) mod method;
pub(crate) mod protocol;
pub(crate) mod server;
pub(crate) mod status;

/// The gRPC `UNAVAILABLE` code (what tonic reports for transport failures).
pub(crate) const UNAVAILABLE: u32 = 14;
/// The gRPC `CANCELLED` code (what tonic reports for its client timeouts).
pub(crate) const CANCELLED: u32 = 1;
/// The gRPC `OK` code.
pub(crate) const OK: u32 = 0;
/// The gRPC `UNKNOWN` code (a stream that ended without a status).
pub(crate) const UNKNOWN: u32 = 2;
