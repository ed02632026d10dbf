//! The gRPC protocols: [`GrpcServer`] and [`GrpcClient`]. A call ends with the `grpc-status`
//! of a trailers-only response head, else with the one in the trailers at the end of the
//! response body.

use std::borrow::Cow;
use std::sync::Arc;

use http::header::HeaderValue;
use http::request::Parts;
use http::{HeaderMap, Response};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;

use super::UNKNOWN;
use super::method::{ClientMethods, ServedMethods, client_attributes};
use super::status::{client_error_code, code_from_http_status, code_name, status_in};
use crate::classify::Observed;
use crate::layer::body::{EndOfStream, TracedBody};
use crate::layer::peer::{peer_service, send_service_name};
use crate::layer::protocol::{Protocol, Sealed, Traced};
use crate::layer::rules::{Rules, Side};
use crate::layer::shared::Shared;
use crate::layer::values::shared_str;
use crate::outcome::Outcome;
use crate::recording::Recording;

/// The gRPC server protocol of [`GrpcServerLayer`](crate::GrpcServerLayer).
#[derive(Debug)]
pub enum GrpcServer {}

/// The gRPC client protocol of [`GrpcClientLayer`](crate::GrpcClientLayer).
#[derive(Debug)]
pub enum GrpcClient {}

impl Sealed for GrpcServer {}
impl Sealed for GrpcClient {}

/// What a gRPC call keeps until it ends: for a server call whose method is not yet known to
/// be served, the method to decide on.
#[derive(Debug, Default)]
pub struct GrpcCall {
    undecided: Option<Undecided>,
}

#[derive(Debug)]
struct Undecided {
    methods: Arc<ServedMethods>,
    method: Box<str>,
    /// The response carried a message: the service itself answered.
    answered: bool,
}

/// The end-of-stream rule of a gRPC call: its outcome decided from the response head (a
/// trailers-only response), or from the `grpc-status` trailer when the body ends.
#[derive(Debug)]
pub struct GrpcEnd(End);

#[derive(Debug)]
enum End {
    Decided(Outcome<'static>),
    Trailers { rules: Arc<Rules>, call: GrpcCall },
}

impl EndOfStream for GrpcEnd {
    /// A data frame is a message, which only the service itself sends.
    fn on_data(&mut self) {
        if let End::Trailers { call, .. } = &mut self.0
            && let Some(undecided) = &mut call.undecided
        {
            undecided.answered = true;
        }
    }

    /// The outcome from the trailers; a stream that ended without a `grpc-status` is
    /// `UNKNOWN`.
    fn finish(self, recording: &mut Recording, trailers: Option<&HeaderMap>) -> Outcome<'static> {
        match self.0 {
            End::Decided(outcome) => outcome,
            End::Trailers { rules, call } => {
                let code = trailers.and_then(status_in).unwrap_or(UNKNOWN);
                finish(&rules, recording, call, code, trailers)
            }
        }
    }
}

/// Decides an undecided method, then classifies `code`; `headers` (response head or
/// trailers) hold the peer's `grpc-message`, recorded only when opted in.
fn finish(
    rules: &Rules,
    recording: &mut Recording,
    call: GrpcCall,
    code: u32,
    headers: Option<&HeaderMap>,
) -> Outcome<'static> {
    if let Some(Undecided {
        methods,
        method,
        answered,
    }) = call.undecided
    {
        match methods.learn(&method, code, answered) {
            Some(value) => {
                recording.set_metric_attribute(KeyValue::new(attribute::RPC_METHOD, value))
            }
            None => ServedMethods::mark_unknown(recording, &method),
        }
    }
    let name = code_name(code);
    let outcome = rules.conclude(
        recording,
        KeyValue::new(crate::conventions::RPC_STATUS_CODE, name),
        Observed::Grpc {
            code: i32::try_from(code).unwrap_or(i32::MAX),
        },
        || Cow::Borrowed(name),
    );
    if rules.error_text == crate::untrusted::ErrorTextMode::Off {
        return outcome;
    }
    let message = headers.and_then(super::status::message_in);
    rules.with_peer_text(outcome, message.as_deref())
}

/// Wraps a response so its span ends with the call's status: from the head of a
/// trailers-only response (or, for a client, from a non-200 HTTP status), else from the
/// trailers.
fn respond<B: http_body::Body>(
    side: Side,
    traced: Option<Traced<GrpcCall>>,
    response: Response<B>,
) -> Response<TracedBody<B, GrpcEnd>> {
    let Some(Traced {
        mut recording,
        call,
        rules,
    }) = traced
    else {
        return response.map(TracedBody::untraced);
    };
    let head_code = status_in(response.headers()).or_else(|| {
        (side == Side::Client && response.status() != http::StatusCode::OK)
            .then(|| code_from_http_status(response.status()))
    });
    let end = GrpcEnd(match head_code {
        Some(code) => End::Decided(finish(
            &rules,
            &mut recording,
            call,
            code,
            Some(response.headers()),
        )),
        None => End::Trailers {
            rules: Arc::clone(&rules),
            call,
        },
    });
    response.map(|body| TracedBody::new(body, recording, end, rules))
}

/// Options specific to [`GrpcServerLayer`](crate::GrpcServerLayer); set them on its [`LayerBuilder`](crate::LayerBuilder).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GrpcServerOptions {
    pub(crate) methods: Arc<ServedMethods>,
}

/// Options specific to [`GrpcClientLayer`](crate::GrpcClientLayer); set them on its [`LayerBuilder`](crate::LayerBuilder).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GrpcClientOptions {
    pub(crate) service_name: Option<HeaderValue>,
    /// `server.address` and `server.port` of the channel, built once.
    pub(crate) server: Vec<KeyValue>,
    /// The methods called through the layer, with their values and span names.
    pub(crate) methods: Arc<ClientMethods>,
}

impl Protocol for GrpcServer {
    type Options = GrpcServerOptions;
    type Call = GrpcCall;
    type ResponseBody<B: http_body::Body> = TracedBody<B, GrpcEnd>;
    const SIDE: Side = Side::Server;
    const INSTRUMENTATION: &'static str = "grpc";

    fn duration_metric() -> crate::metric::DurationMetric {
        crate::metric::DurationMetric::rpc_server()
    }

    fn begin(
        shared: &Shared<GrpcServerOptions>,
        parent: &Context,
        parts: &Parts,
    ) -> (Recording, GrpcCall) {
        let methods = &shared.options.methods;
        let (default_name, mut attributes, undecided) = methods.server_attributes(parts.uri.path());
        let name = shared.hooks.span_name(parts).unwrap_or(default_name);
        shared.hooks.add_attributes(parts, &mut attributes);
        let recording = shared
            .recorder
            .start_with(parent, None, name, attributes, |details| {
                if let Some(peer) = peer_service(&parts.headers) {
                    details.push(KeyValue::new(attribute::SERVICE_PEER_NAME, peer.to_owned()));
                }
            });
        let call = GrpcCall {
            undecided: undecided.map(|method| Undecided {
                methods: Arc::clone(methods),
                method: method.into(),
                answered: false,
            }),
        };
        (recording, call)
    }

    fn respond<B: http_body::Body>(
        traced: Option<Traced<GrpcCall>>,
        response: Response<B>,
    ) -> Response<TracedBody<B, GrpcEnd>> {
        respond(Side::Server, traced, response)
    }

    fn service_error_type(
        traced: &mut Traced<GrpcCall>,
        _error: &(dyn std::any::Any + 'static),
    ) -> &'static str {
        if let Some(Undecided { method, .. }) = traced.call.undecided.take() {
            ServedMethods::mark_unknown(&mut traced.recording, &method);
        }
        crate::layer::rules::OTHER_ERROR
    }
}

impl Protocol for GrpcClient {
    type Options = GrpcClientOptions;
    type Call = GrpcCall;
    type ResponseBody<B: http_body::Body> = TracedBody<B, GrpcEnd>;
    const SIDE: Side = Side::Client;
    const INSTRUMENTATION: &'static str = "grpc";

    fn duration_metric() -> crate::metric::DurationMetric {
        crate::metric::DurationMetric::rpc_client()
    }

    fn prepare(options: &GrpcClientOptions, parts: &mut Parts) {
        send_service_name(&mut parts.headers, options.service_name.as_ref());
    }

    fn begin(
        shared: &Shared<GrpcClientOptions>,
        parent: &Context,
        parts: &Parts,
    ) -> (Recording, GrpcCall) {
        let (default_name, mut attributes) =
            client_attributes(&shared.options.methods, parts.uri.path());
        match crate::http::request_facts::uri_host_port(&parts.uri) {
            Some((host, port)) if crate::layer::values::valid_host(host) => {
                attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, shared_str(host)));
                if let Some(port) = port {
                    attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
                }
            }
            // Shared strings: cloning them only bumps a count.
            _ => attributes.extend(shared.options.server.iter().cloned()),
        }
        let name = shared.hooks.span_name(parts).unwrap_or(default_name);
        shared.hooks.add_attributes(parts, &mut attributes);
        (
            shared.recorder.start(parent, name, attributes),
            GrpcCall::default(),
        )
    }

    fn respond<B: http_body::Body>(
        traced: Option<Traced<GrpcCall>>,
        response: Response<B>,
    ) -> Response<TracedBody<B, GrpcEnd>> {
        respond(Side::Client, traced, response)
    }

    /// No response: the code tonic gives the application for `error` (`CANCELLED` for its
    /// client timeouts, `UNAVAILABLE` for a failed connection or an unknown error).
    fn service_error_type(
        traced: &mut Traced<GrpcCall>,
        error: &(dyn std::any::Any + 'static),
    ) -> &'static str {
        let name = code_name(client_error_code(error));
        traced
            .recording
            .set_metric_attribute(KeyValue::new(crate::conventions::RPC_STATUS_CODE, name));
        name
    }
}
