//! [`GrpcClientLayer`]: a client span and `rpc.client.call.duration` per call, and context
//! propagation into the request metadata.

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute;

use super::protocol::GrpcClient;
use crate::layer::peer::service_header_value;
use crate::layer::service::TraceService;
use crate::layer::trace_layer::LayerBuilder;
use crate::layer::trace_layer::TraceLayer;

impl LayerBuilder<GrpcClient> {
    /// Sends this service's name in the
    /// `PEER_SERVICE_HEADER` metadata, so the server's
    /// span records who called (`service.peer.name`). Off by default.
    pub fn service_name(mut self, name: &str) -> Self {
        self.options.service_name = service_header_value(name);
        self
    }

    /// The `server.address` / `server.port` of the channel. A layer above a tonic `Channel`
    /// sees only the request path, so tell it where the channel points (requests whose URI
    /// has a host use that instead).
    pub fn server(mut self, address: impl Into<String>, port: Option<u16>) -> Self {
        let address: String = address.into();
        self.options.server = vec![KeyValue::new(
            attribute::SERVER_ADDRESS,
            crate::layer::values::shared_str(&address),
        )];
        if let Some(port) = port {
            self.options
                .server
                .push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
        }
        self
    }
}

/// Tower layer tracing a gRPC client: one `CLIENT` span per call named
/// `{package.Service}/{Method}`, child of [`current_context`](crate::current_context), injected into the request
/// metadata, ended when the response stream ends. Every status but `OK` is an error. Records
/// `rpc.client.call.duration`.
///
/// ```no_run
/// # async fn call() -> Result<(), Box<dyn std::error::Error>> {
/// use otel_rpc::GrpcClientLayer;
/// use tower::ServiceBuilder;
///
/// let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50051")
///     .connect()
///     .await?;
/// let channel = ServiceBuilder::new()
///     .layer(GrpcClientLayer::builder().server("127.0.0.1", Some(50051)).build())
///     .service(channel);
/// // let mut client = GreeterClient::new(channel);
/// # let _ = channel; Ok(()) }
/// ```
pub type GrpcClientLayer = TraceLayer<GrpcClient>;

/// The service made by [`GrpcClientLayer`]: a tonic channel behind the layer is a
/// `GrpcClientService<Channel>`, e.g. `EchoClient<GrpcClientService<Channel>>`.
pub type GrpcClientService<S> = TraceService<S, GrpcClient>;
