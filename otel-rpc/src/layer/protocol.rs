//! What differs between the four traced protocols (HTTP server and client, gRPC server and
//! client), and nothing else: how a request becomes a span, and how a response head ends it
//! or hands it to the body. The service, future and body around it are shared.

use std::sync::Arc;

use ::http::Response;
use ::http::request::Parts;
use opentelemetry::Context;

use super::rules::{OTHER_ERROR, Rules, Side};
use super::shared::Shared;
use crate::recording::Recording;

/// A traced request on its way: the recording, what the protocol keeps about the call until
/// it ends, and the layer's rules.
pub struct Traced<C> {
    pub(crate) recording: Recording,
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) call: C,
    pub(crate) rules: Arc<Rules>,
}

mod sealed {
    pub trait Sealed {}
}

/// A protocol a [`TraceLayer`](super::trace_layer::TraceLayer) traces: `HttpServer`,
/// `HttpClient`, `GrpcServer` or
/// `GrpcClient`. Implemented by this crate only.
pub trait Protocol: sealed::Sealed + Sized + Send + Sync + 'static {
    /// The protocol's own options, set on its [`LayerBuilder`](crate::LayerBuilder).
    type Options: Default + Send + Sync + 'static;
    /// What the protocol remembers about a call between its start and its end.
    type Call: Send + 'static;
    /// The body of the traced service's responses.
    type ResponseBody<B: http_body::Body>;
    /// Which end of the call the protocol traces.
    #[doc(hidden)]
    const SIDE: Side;
    /// The short name of the environment switch (`OTEL_INSTRUMENTATION_<NAME>_ENABLED`).
    #[doc(hidden)]
    const INSTRUMENTATION: &'static str;

    /// The duration metric the protocol records.
    #[doc(hidden)]
    fn duration_metric() -> crate::metric::DurationMetric;

    /// Adjusts an outgoing request before it is traced (or passed through).
    #[doc(hidden)]
    fn prepare(_options: &Self::Options, _parts: &mut Parts) {}

    /// Starts the span of a request under `parent`.
    #[doc(hidden)]
    fn begin(
        shared: &Shared<Self::Options>,
        parent: &Context,
        parts: &Parts,
    ) -> (Recording, Self::Call);

    /// Ends the span from the response head, or hands it to the response body.
    #[doc(hidden)]
    fn respond<B: http_body::Body>(
        traced: Option<Traced<Self::Call>>,
        response: Response<B>,
    ) -> Response<Self::ResponseBody<B>>;

    /// The `error.type` of a service error (no response), after recording what the protocol
    /// records for it.
    #[doc(hidden)]
    fn service_error_type(
        _traced: &mut Traced<Self::Call>,
        _error: &(dyn std::any::Any + 'static),
    ) -> &'static str {
        OTHER_ERROR
    }
}

pub(crate) use sealed::Sealed;
