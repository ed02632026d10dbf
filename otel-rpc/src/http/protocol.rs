//! The HTTP protocols: [`HttpServer`] and [`HttpClient`].

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::HeaderValue;
use http::request::Parts;
use http::{Response, header};
use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;

use super::body_sizes::{note_client_response, note_request};
use crate::classify::Observed;
use crate::http::request_facts::{
    client_scheme, default_port, protocol_version, redact_query, redact_uri, server_host_port,
    server_scheme, uri_host_port,
};
use crate::layer::body::{Decided, TracedBody};
use crate::layer::peer::{peer_service, send_service_name};
use crate::layer::protocol::{Protocol, Sealed, Traced};
use crate::layer::rules::{Rules, Side};
use crate::layer::shared::Shared;
use crate::layer::values::{shared_str, valid_host};
use crate::metric::bounded::BoundedValues;
use crate::outcome::Outcome;
use crate::recording::Recording;
use crate::untrusted::OTHER;

/// The HTTP server protocol of [`HttpServerLayer`](crate::HttpServerLayer).
#[derive(Debug)]
pub enum HttpServer {}

/// The HTTP client protocol of [`HttpClientLayer`](crate::HttpClientLayer).
#[derive(Debug)]
pub enum HttpClient {}

impl Sealed for HttpServer {}
impl Sealed for HttpClient {}

/// The route template of a request, e.g. `/users/{id}`.
pub type RouteFn = Arc<dyn Fn(&Parts) -> Option<Cow<'static, str>> + Send + Sync>;

/// Options specific to [`HttpServerLayer`](crate::HttpServerLayer); set them on its [`LayerBuilder`](crate::LayerBuilder).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct HttpServerOptions {
    pub(crate) route: Option<RouteFn>,
    pub(crate) trust_forwarded_for: bool,
    pub(crate) metric_server_addresses: Option<Arc<BoundedValues>>,
    pub(crate) known_methods: super::KnownMethods,
    /// The `{method} {route}` pairs seen, with their values and span names.
    pub(crate) routes: Arc<super::routes::RouteNames>,
}

impl fmt::Debug for HttpServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerOptions")
            .field("route_fn", &self.route.is_some())
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field(
                "metric_server_address",
                &self.metric_server_addresses.is_some(),
            )
            .field("known_methods", &self.known_methods)
            .finish()
    }
}

/// Options specific to [`HttpClientLayer`](crate::HttpClientLayer); set them on its [`LayerBuilder`](crate::LayerBuilder).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct HttpClientOptions {
    pub(crate) service_name: Option<HeaderValue>,
    pub(crate) known_methods: super::KnownMethods,
}

impl fmt::Debug for HttpClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientOptions")
            .field("service_name", &self.service_name)
            .field("known_methods", &self.known_methods)
            .finish()
    }
}

impl Protocol for HttpServer {
    type Options = HttpServerOptions;
    type Call = ();
    type ResponseBody<B: http_body::Body> = TracedBody<B>;
    const SIDE: Side = Side::Server;
    const INSTRUMENTATION: &'static str = "http";

    fn duration_metric() -> crate::metric::DurationMetric {
        crate::metric::DurationMetric::http_server()
    }

    fn begin(
        shared: &Shared<HttpServerOptions>,
        parent: &Context,
        parts: &Parts,
    ) -> (Recording, ()) {
        let mut recording = start_server(shared, parent, parts);
        note_request(&mut recording, &parts.headers);
        (recording, ())
    }

    fn respond<B: http_body::Body>(
        traced: Option<Traced<()>>,
        response: Response<B>,
    ) -> Response<TracedBody<B>> {
        let Some(Traced {
            mut recording,
            rules,
            ..
        }) = traced
        else {
            return response.map(TracedBody::untraced);
        };
        let outcome = conclude(&rules, &mut recording, response.status().as_u16());
        response.map(|body| TracedBody::new(body, recording, Decided(outcome), rules))
    }
}

impl Protocol for HttpClient {
    type Options = HttpClientOptions;
    type Call = ();
    type ResponseBody<B: http_body::Body> = B;
    const SIDE: Side = Side::Client;
    const INSTRUMENTATION: &'static str = "http";

    fn duration_metric() -> crate::metric::DurationMetric {
        crate::metric::DurationMetric::http_client()
    }

    fn prepare(options: &HttpClientOptions, parts: &mut Parts) {
        send_service_name(&mut parts.headers, options.service_name.as_ref());
    }

    fn begin(
        shared: &Shared<HttpClientOptions>,
        parent: &Context,
        parts: &Parts,
    ) -> (Recording, ()) {
        let url = || redact_uri(&parts.uri);
        let (host, port) = uri_host_port(&parts.uri).map_or((None, None), |(h, p)| (Some(h), p));
        let request = ClientRequest {
            method: &parts.method,
            known_methods: &shared.options.known_methods,
            scheme: parts.uri.scheme_str(),
            host,
            port,
            url: &url,
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
        };
        let name = shared.hooks.span_name(parts);
        let mut extra = Vec::new();
        shared.hooks.add_attributes(parts, &mut extra);
        let mut recording = start_client_span(&shared.recorder, parent, &request, name, extra);
        note_request(&mut recording, &parts.headers);
        (recording, ())
    }

    /// The span ends with the response head: the body is the caller's to read.
    fn respond<B: http_body::Body>(
        traced: Option<Traced<()>>,
        response: Response<B>,
    ) -> Response<B> {
        if let Some(Traced {
            mut recording,
            rules,
            ..
        }) = traced
        {
            note_client_response(&mut recording, response.headers());
            let outcome = conclude(&rules, &mut recording, response.status().as_u16());
            recording.end(outcome);
        }
        response
    }
}

fn start_server(shared: &Shared<HttpServerOptions>, parent: &Context, parts: &Parts) -> Recording {
    let recorder = &shared.recorder;
    let (method, original_method) = shared.options.known_methods.classify(&parts.method);
    let from_hook;
    let route = match matched_path(parts) {
        Some(route) => Some(route),
        None => {
            from_hook = shared.options.route.as_ref().and_then(|route| route(parts));
            from_hook.as_deref()
        }
    };
    let route = route.map(|route| shared.options.routes.get(&method, route));
    let name = match (shared.hooks.span_name(parts), &route) {
        (Some(name), _) => name,
        (None, Some(route)) => route.name.clone(),
        (None, None) => method.clone(),
    };
    let mut attributes = Vec::with_capacity(14);
    attributes.push(KeyValue::new(attribute::HTTP_REQUEST_METHOD, method));
    attributes.push(KeyValue::new(
        attribute::URL_SCHEME,
        server_scheme(parts.uri.scheme_str()),
    ));
    if let Some(route) = route {
        attributes.push(KeyValue::new(attribute::HTTP_ROUTE, route.route));
    }
    server_address(&shared.options, parts, &mut attributes);
    if let Some(version) = protocol_version(parts.version) {
        attributes.push(KeyValue::new(attribute::NETWORK_PROTOCOL_VERSION, version));
    }
    // Sampling-relevant (the conventions' span-start set): given to the sampler.
    attributes.push(KeyValue::new(
        attribute::URL_PATH,
        parts.uri.path().to_owned(),
    ));
    if let Some(query) = parts.uri.query() {
        attributes.push(KeyValue::new(
            attribute::URL_QUERY,
            redact_query(query).into_owned(),
        ));
    }
    if let Some(agent) = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
    {
        attributes.push(KeyValue::new(
            attribute::USER_AGENT_ORIGINAL,
            agent.to_owned(),
        ));
    }
    client_address(parts, shared.options.trust_forwarded_for, &mut attributes);
    shared.hooks.add_attributes(parts, &mut attributes);
    recorder.start_with(parent, None, name, attributes, |details| {
        if let Some(original) = original_method {
            details.push(KeyValue::new(
                attribute::HTTP_REQUEST_METHOD_ORIGINAL,
                original.to_owned(),
            ));
        }
        if let Some(peer) = peer_service(&parts.headers) {
            details.push(KeyValue::new(attribute::SERVICE_PEER_NAME, peer.to_owned()));
        }
    })
}

/// `server.address` / `server.port` as the client addressed the server (URI authority, else
/// `Host`), only when the host has a host name's or IP address's shape. On the metric only
/// when opted in, and then at most `MAX_METRIC_SERVER_ADDRESSES`
/// distinct host:port pairs; the others are recorded as `_OTHER` without a port.
fn server_address(options: &HttpServerOptions, parts: &Parts, attributes: &mut Vec<KeyValue>) {
    let Some((host, port)) = server_host_port(&parts.uri, &parts.headers) else {
        return;
    };
    if !valid_host(host) {
        return;
    }
    let value = match &options.metric_server_addresses {
        None => opentelemetry::Value::from(host.to_owned()),
        Some(bounded) => {
            let key;
            let key = match port {
                Some(port) => {
                    key = format!("{host}:{port}");
                    key.as_str()
                }
                None => host,
            };
            let Some(value) = bounded.admit_as(key, || shared_str(host)) else {
                attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, OTHER));
                return;
            };
            value
        }
    };
    attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, value));
    if let Some(port) = port {
        attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
    }
}

/// axum's route template, when the request went through an axum router.
#[cfg(feature = "axum")]
fn matched_path(parts: &Parts) -> Option<&str> {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

#[cfg(not(feature = "axum"))]
fn matched_path(_parts: &Parts) -> Option<&str> {
    None
}

const X_FORWARDED_FOR: http::HeaderName = http::HeaderName::from_static("x-forwarded-for");

fn client_address(parts: &Parts, trust_forwarded_for: bool, attributes: &mut Vec<KeyValue>) {
    #[cfg(feature = "axum")]
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    #[cfg(not(feature = "axum"))]
    let peer: Option<std::net::SocketAddr> = None;
    let forwarded = trust_forwarded_for
        .then(|| {
            parts
                .headers
                .get(X_FORWARDED_FOR)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 64)
        })
        .flatten();
    match (forwarded, peer) {
        (Some(client), peer) => {
            attributes.push(KeyValue::new(attribute::CLIENT_ADDRESS, client.to_owned()));
            if let Some(peer) = peer {
                attributes.push(KeyValue::new(
                    attribute::NETWORK_PEER_ADDRESS,
                    peer.ip().to_string(),
                ));
                attributes.push(KeyValue::new(
                    attribute::NETWORK_PEER_PORT,
                    i64::from(peer.port()),
                ));
            }
        }
        (None, Some(peer)) => {
            attributes.push(KeyValue::new(
                attribute::CLIENT_ADDRESS,
                peer.ip().to_string(),
            ));
            attributes.push(KeyValue::new(
                attribute::CLIENT_PORT,
                i64::from(peer.port()),
            ));
        }
        (None, None) => {}
    }
}

/// What a client span needs to know about its request; shared with the reqwest middleware.
pub(crate) struct ClientRequest<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) known_methods: &'a crate::http::KnownMethods,
    pub(crate) scheme: Option<&'a str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) port: Option<u16>,
    /// `url.full`, already redacted.
    pub(crate) url: &'a dyn Fn() -> String,
    pub(crate) user_agent: Option<&'a str>,
}

/// Starts a client span from the facts of a request.
pub(crate) fn start_client_span(
    recorder: &crate::recorder::SpanRecorder,
    parent: &Context,
    request: &ClientRequest<'_>,
    name: Option<Cow<'static, str>>,
    extra: Vec<KeyValue>,
) -> Recording {
    debug_assert!(recorder.kind() == SpanKind::Client);
    let (method, original_method) = request.known_methods.classify(request.method);
    let mut attributes = Vec::with_capacity(7 + extra.len());
    attributes.push(KeyValue::new(
        attribute::HTTP_REQUEST_METHOD,
        method.clone(),
    ));
    if let Some(host) = request.host {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if valid_host(host) {
            attributes.push(KeyValue::new(attribute::SERVER_ADDRESS, shared_str(host)));
        }
    }
    if let Some(port) = request
        .port
        .or_else(|| request.scheme.and_then(default_port))
    {
        attributes.push(KeyValue::new(attribute::SERVER_PORT, i64::from(port)));
    }
    if let Some(scheme) = request.scheme {
        attributes.push(KeyValue::new(attribute::URL_SCHEME, client_scheme(scheme)));
    }
    // Sampling-relevant (the conventions' span-start set): given to the sampler.
    attributes.push(KeyValue::new(attribute::URL_FULL, (request.url)()));
    attributes.extend(extra);
    let name = name.unwrap_or(method);
    recorder.start_with(parent, None, name, attributes, |details| {
        if let Some(original) = original_method {
            details.push(KeyValue::new(
                attribute::HTTP_REQUEST_METHOD_ORIGINAL,
                original.to_owned(),
            ));
        }
        if let Some(agent) = request.user_agent {
            details.push(KeyValue::new(
                attribute::USER_AGENT_ORIGINAL,
                agent.to_owned(),
            ));
        }
    })
}

/// The HTTP rule of a response: `http.response.status_code` on span and metric, classified
/// (server 5xx, client 4xx and 5xx by default); `error.type` is the status code.
pub(crate) fn conclude(rules: &Rules, recording: &mut Recording, status: u16) -> Outcome<'static> {
    rules.conclude(
        recording,
        KeyValue::new(attribute::HTTP_RESPONSE_STATUS_CODE, i64::from(status)),
        Observed::Http { status },
        || Cow::Owned(status.to_string()),
    )
}
