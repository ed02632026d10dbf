//! [`GrpcServerLayer`]: a server span and `rpc.server.call.duration` per call.

use std::sync::Arc;

use super::protocol::GrpcServer;
use crate::layer::trace_layer::LayerBuilder;
use crate::layer::trace_layer::TraceLayer;

impl LayerBuilder<GrpcServer> {
    /// The services this server serves, by their full name (`package.Service`, tonic's
    /// `NamedService::NAME`, e.g. `EchoServer::<MyEcho>::NAME`). Calls to methods of any
    /// other service are recorded with `rpc.method` `_OTHER` (the path goes to the span's
    /// `rpc.method_original`), so a client cannot add metric series by calling made-up
    /// services. Methods of the listed services are learned as in the default (see
    /// [`GrpcServerLayer`]). May be called more than once.
    pub fn services<I, S>(mut self, services: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Arc::make_mut(&mut self.options.methods).add_services(services);
        self
    }

    /// The exact methods this server serves (`package.Service/Method`); every other method
    /// is `_OTHER`. Takes precedence over [`services`](Self::services) and over learning.
    pub fn methods<I, M>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = M>,
        M: AsRef<str>,
    {
        Arc::make_mut(&mut self.options.methods).add_methods(methods);
        self
    }
}

/// Tower layer tracing a gRPC server: one `SERVER` span per call named
/// `{package.Service}/{Method}`, parented to the context in the request metadata, current while
/// the handler runs, ended when the response stream ends. Handler panics are errors (then
/// resumed). Records `rpc.server.call.duration`.
///
/// `rpc.method` (span and metric) is `_OTHER` for a method the server does not serve, the path
/// going to the span's `rpc.method_original` and the span renamed `grpc`, so a client calling
/// made-up methods cannot add metric series. Which methods are served: the exact
/// [`methods`](LayerBuilder::methods) list when given; else, among the
/// [`services`](LayerBuilder::services) when given, a method the service itself answered: a
/// call whose response carried a message or ended `OK`, at most
/// `MAX_LEARNED_METHODS` of them. A status without a message
/// proves nothing (tonic's router answers `UNIMPLEMENTED` for what it does not route, an
/// interceptor in front of it its own status for anything), so a client cannot fill the set
/// with made-up methods. Until a method is known its `rpc.method` is set when the call ends,
/// not at span start.
///
/// ```no_run
/// # async fn serve<S>(service: S) -> Result<(), tonic::transport::Error>
/// # where S: tower::Service<http::Request<tonic::body::Body>, Error = std::convert::Infallible>
/// #   + tonic::server::NamedService + Clone + Send + Sync + 'static,
/// #   S::Response: axum::response::IntoResponse, S::Future: Send + 'static {
/// use otel_rpc::GrpcServerLayer;
///
/// tonic::transport::Server::builder()
///     .layer(GrpcServerLayer::new())
///     .add_service(service) // e.g. GreeterServer::new(MyGreeter)
///     .serve("127.0.0.1:50051".parse().expect("address"))
///     .await
/// # }
/// ```
pub type GrpcServerLayer = TraceLayer<GrpcServer>;
