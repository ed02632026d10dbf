//! [`OtelMiddleware`]: the HTTP client span for `reqwest` through `reqwest-middleware`.

use std::fmt;
use std::sync::Arc;

use ::reqwest::{Request, Response, header};
use opentelemetry::KeyValue;
use opentelemetry::context::FutureExt as _;
use opentelemetry_semantic_conventions::attribute;
use reqwest_middleware::{Error, Middleware, Next, Result};

use super::client::HttpClientLayer;
use super::protocol::{ClientRequest, HttpClientOptions, conclude, start_client_span};
use crate::layer::headers::HeaderInjector;
use crate::layer::peer::send_service_name;
use crate::layer::shared::Shared;
use crate::outcome::{Failure, Outcome};
use crate::parent::current_context;

/// `reqwest-middleware` middleware tracing each request like
/// [`HttpClientLayer`](crate::HttpClientLayer): a `CLIENT` span `{method}`, child of
/// [`current_context`], context injected into the request headers, 4xx/5xx and transport
/// errors are errors, `http.client.request.duration`. Configure it through the layer's
/// builder.
///
/// One span per send through the middleware: a retry middleware placed before this one
/// resends through it, and the repeats carry `http.request.resend_count`. Redirects are not
/// sends through the middleware: reqwest follows them inside the client, below every
/// middleware, so a followed redirect chain is one span with the first request's `url.full`
/// and the last response's status (see the README's deviations). For one span per hop,
/// build the client with `reqwest::redirect::Policy::none()` and follow `Location` in the
/// application.
///
/// ```
/// use otel_rpc::{HttpClientLayer, OtelMiddleware};
///
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(OtelMiddleware::from(HttpClientLayer::builder().service_name("checkout").build()))
///     .build();
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct OtelMiddleware {
    shared: Arc<Shared<HttpClientOptions>>,
}

impl fmt::Debug for OtelMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelMiddleware")
            .field("recorder", &self.shared.recorder)
            .finish_non_exhaustive()
    }
}

impl Default for OtelMiddleware {
    fn default() -> Self {
        Self::new()
    }
}

impl OtelMiddleware {
    /// A middleware with default options and the global providers.
    pub fn new() -> Self {
        Self::from(HttpClientLayer::new())
    }
}

impl From<HttpClientLayer> for OtelMiddleware {
    fn from(layer: HttpClientLayer) -> Self {
        OtelMiddleware {
            shared: layer.shared(),
        }
    }
}

/// The request as `http` parts, for the layer's callbacks (only built when one is set).
fn parts_of(req: &Request) -> Option<http::request::Parts> {
    let request = http::Request::builder()
        .method(req.method().clone())
        .uri(req.url().as_str())
        .version(req.version())
        .body(())
        .ok()?;
    let (mut parts, ()) = request.into_parts();
    parts.headers = req.headers().clone();
    Some(parts)
}

#[async_trait::async_trait]
impl Middleware for OtelMiddleware {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let shared = &self.shared;
        let parent = current_context();
        send_service_name(req.headers_mut(), shared.options.service_name.as_ref());
        let parts = if shared.hooks.any() {
            parts_of(&req)
        } else {
            None
        };
        if parts.as_ref().is_some_and(|p| !shared.hooks.traces(p)) {
            shared
                .recorder
                .inject(&parent, &mut HeaderInjector(req.headers_mut()));
            return next.run(req, extensions).await;
        }
        let recording = {
            let url = req.url();
            let full = || super::request_facts::redact_url(url.as_str());
            let request = ClientRequest {
                method: req.method(),
                known_methods: &shared.options.known_methods,
                scheme: Some(url.scheme()),
                host: url.host_str(),
                port: url.port(),
                url: &full,
                user_agent: req
                    .headers()
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok()),
            };
            let mut extra = Vec::new();
            if let Some(resends) = resend_count(extensions) {
                extra.push(KeyValue::new(
                    attribute::HTTP_REQUEST_RESEND_COUNT,
                    i64::from(resends),
                ));
            }
            let mut name = None;
            if let Some(parts) = &parts {
                name = shared.hooks.span_name(parts);
                shared.hooks.add_attributes(parts, &mut extra);
            }
            start_client_span(&shared.recorder, &parent, &request, name, extra)
        };
        shared.rules.capture.request(req.headers(), &recording);
        let mut recording = recording;
        super::body_sizes::note_request(&mut recording, req.headers());
        if recording.wants_body_sizes()
            && let Some(body) = req.body().and_then(::reqwest::Body::as_bytes)
        {
            recording.set_request_body_size(body.len() as u64);
        }
        shared
            .recorder
            .inject(recording.context(), &mut HeaderInjector(req.headers_mut()));
        let result = next
            .run(req, extensions)
            .with_context(recording.context().clone())
            .await;
        match &result {
            Ok(response) => {
                shared
                    .rules
                    .capture
                    .response(response.headers(), &recording);
                super::body_sizes::note_client_response(&mut recording, response.headers());
                let outcome = conclude(&shared.rules, &mut recording, response.status().as_u16());
                recording.end(outcome);
            }
            Err(error) => {
                let mut failure = failure(error);
                if shared.rules.error_text != crate::untrusted::ErrorTextMode::Off
                    && let Error::Reqwest(e) = error
                    && let Some(source) = std::error::Error::source(e)
                {
                    failure = failure
                        .with_untrusted_message(&source.to_string(), shared.rules.error_text);
                }
                recording.end(Outcome::Failure(failure));
            }
        }
        result
    }
}

/// How many times this middleware already sent the request that owns `extensions`.
/// reqwest-middleware gives every send of one request the same extensions, so a retry
/// middleware in front of this one (reqwest-retry, or the application's own) resends with
/// them: each attempt gets its own span, the repeats `http.request.resend_count` 1, 2, ...
#[derive(Clone, Copy)]
struct Sends(u32);

/// Counts this send; the resend count when it is a repeat.
fn resend_count(extensions: &mut http::Extensions) -> Option<u32> {
    let previous = extensions.get::<Sends>().map(|s| s.0);
    let sends = previous.map_or(1, |n| n.saturating_add(1));
    extensions.insert(Sends(sends));
    previous
}

/// The failure of a request that got no response. reqwest's messages name the URL (query
/// included) and carry peer or OS text, so none is recorded: `error.type` is the error's own
/// kind from reqwest's classification, the description a fixed text.
fn failure(error: &Error) -> Failure<'static> {
    let error_type = match error {
        Error::Reqwest(e) if e.is_timeout() => "timeout",
        Error::Reqwest(e) if e.is_connect() => "connect",
        Error::Reqwest(e) if e.is_redirect() => "redirect",
        Error::Reqwest(e) if e.is_body() => "body",
        Error::Reqwest(e) if e.is_decode() => "decode",
        Error::Reqwest(e) if e.is_builder() => "builder",
        Error::Reqwest(_) => "request",
        Error::Middleware(_) => "middleware",
    };
    Failure::new(error_type)
        .with_message("the request got no response")
        .with_exception()
}
