//! Header (HTTP) and metadata (gRPC) capture by allow-list of names, as span attributes only
//! (the rules are documented on [`LayerBuilder::capture_request_headers`], the public entry).

use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use crate::layer::rules::Side;
use crate::layer::trace_layer::LayerBuilder;
use crate::recording::Recording;
use crate::text::truncate;

/// Header names refused by capture unless
/// [`capture_sensitive_headers(true)`](LayerBuilder::capture_sensitive_headers) is also set:
/// they carry credentials.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "x-api-key",
];

/// Most header names captured per direction; later names are ignored.
pub const MAX_CAPTURED_HEADERS: usize = 32;

/// Most values of one header recorded (a header repeated more often keeps its first ones).
pub const MAX_CAPTURED_VALUES: usize = 8;

/// Cap, in bytes, on each captured header value (cut on a char boundary with the truncation
/// marker).
pub const MAX_CAPTURED_VALUE_LEN: usize = 256;

/// What the builder was told; resolved per layer by [`CaptureConfig::resolve`].
#[derive(Clone, Debug, Default)]
pub(crate) struct CaptureConfig {
    request: Option<Vec<String>>,
    response: Option<Vec<String>>,
    sensitive: bool,
}

/// Which direction of a call.
#[derive(Clone, Copy)]
enum Direction {
    Request,
    Response,
}

/// The resolved capture of one layer: the headers to read and the attribute key of each.
#[derive(Clone, Default)]
pub(crate) struct HeaderCapture {
    inner: Option<Arc<Resolved>>,
}

struct Resolved {
    request: Vec<(HeaderName, Key)>,
    response: Vec<(HeaderName, Key)>,
}

impl fmt::Debug for HeaderCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |list: &[(HeaderName, Key)]| -> Vec<String> {
            list.iter().map(|(n, _)| n.to_string()).collect()
        };
        match &self.inner {
            None => f.write_str("HeaderCapture(off)"),
            Some(r) => f
                .debug_struct("HeaderCapture")
                .field("request", &names(&r.request))
                .field("response", &names(&r.response))
                .finish(),
        }
    }
}

/// The variables read, in order (the first set and non-blank one wins), for the request
/// names of a layer of `instrumentation` (`http` or `grpc`) on `side`, when the builder named
/// none.
///
/// ```
/// use otel_rpc::testing::request_env_vars;
/// use otel_rpc::testing::Side;
/// assert_eq!(request_env_vars("http", Side::Server), ["OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS"]);
/// assert_eq!(request_env_vars("grpc", Side::Client), [
///     "OTEL_INSTRUMENTATION_GRPC_CLIENT_REQUEST_METADATA_INCLUDED",
///     "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_REQUEST",
/// ]);
/// ```
#[cfg(feature = "testing")]
pub fn request_env_vars(instrumentation: &str, side: Side) -> Vec<String> {
    env_vars(instrumentation, side, Direction::Request)
}

/// [`request_env_vars`] for the response names.
#[cfg(feature = "testing")]
pub fn response_env_vars(instrumentation: &str, side: Side) -> Vec<String> {
    env_vars(instrumentation, side, Direction::Response)
}

fn env_vars(instrumentation: &str, side: Side, direction: Direction) -> Vec<String> {
    let side = match side {
        Side::Server => "SERVER",
        Side::Client => "CLIENT",
    };
    let direction = match direction {
        Direction::Request => "REQUEST",
        Direction::Response => "RESPONSE",
    };
    if instrumentation == "grpc" {
        // The Java agent's current name (exact names only here, no patterns) and its
        // earlier one.
        vec![
            format!("OTEL_INSTRUMENTATION_GRPC_{side}_{direction}_METADATA_INCLUDED"),
            format!("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_{side}_{direction}"),
        ]
    } else {
        let name = instrumentation.to_ascii_uppercase();
        vec![format!(
            "OTEL_INSTRUMENTATION_{name}_{side}_CAPTURE_{direction}_HEADERS"
        )]
    }
}

fn from_env(vars: &[String]) -> Vec<String> {
    vars.iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|v| !v.trim().is_empty())
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

impl CaptureConfig {
    /// The capture of a layer of `instrumentation` on `side`: the builder's names, else the
    /// variables'; lower-cased, deduplicated, invalid names, wildcard patterns and refused
    /// credentials dropped.
    pub(crate) fn resolve(&self, instrumentation: &str, side: Side) -> HeaderCapture {
        let grpc = instrumentation == "grpc";
        let names = |given: &Option<Vec<String>>, direction| match given {
            Some(names) => names.clone(),
            None => from_env(&env_vars(instrumentation, side, direction)),
        };
        let request = self.keys(
            names(&self.request, Direction::Request),
            prefix(grpc, Direction::Request),
        );
        let response = self.keys(
            names(&self.response, Direction::Response),
            prefix(grpc, Direction::Response),
        );
        if request.is_empty() && response.is_empty() {
            return HeaderCapture::default();
        }
        HeaderCapture {
            inner: Some(Arc::new(Resolved { request, response })),
        }
    }

    fn keys(&self, names: Vec<String>, prefix: &str) -> Vec<(HeaderName, Key)> {
        let mut out: Vec<(HeaderName, Key)> = Vec::new();
        for name in names {
            let name = name.trim().to_ascii_lowercase();
            if name.contains(['*', '?']) {
                continue;
            }
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                continue;
            };
            if !self.sensitive && SENSITIVE_HEADERS.contains(&header.as_str()) {
                continue;
            }
            if out.len() == MAX_CAPTURED_HEADERS {
                break;
            }
            if out.iter().all(|(h, _)| *h != header) {
                let key = Key::from(format!("{prefix}.{}", header.as_str()));
                out.push((header, key));
            }
        }
        out
    }
}

#[allow(deprecated)]
fn prefix(grpc: bool, direction: Direction) -> &'static str {
    use opentelemetry_semantic_conventions::attribute;
    match (grpc, direction) {
        (false, Direction::Request) => attribute::HTTP_REQUEST_HEADER,
        (false, Direction::Response) => attribute::HTTP_RESPONSE_HEADER,
        (true, Direction::Request) => attribute::RPC_REQUEST_METADATA,
        (true, Direction::Response) => attribute::RPC_RESPONSE_METADATA,
    }
}

impl HeaderCapture {
    /// Records the named request headers on `recording`'s span.
    pub(crate) fn request(&self, headers: &HeaderMap, recording: &Recording) {
        if let Some(r) = &self.inner {
            record(&r.request, headers, recording);
        }
    }

    /// Records the named response headers on `recording`'s span.
    pub(crate) fn response(&self, headers: &HeaderMap, recording: &Recording) {
        if let Some(r) = &self.inner {
            record(&r.response, headers, recording);
        }
    }
}

fn record(names: &[(HeaderName, Key)], headers: &HeaderMap, recording: &Recording) {
    if names.is_empty() || !recording.is_recording() {
        return;
    }
    for (name, key) in names {
        let values: Vec<StringValue> = headers
            .get_all(name)
            .iter()
            .take(MAX_CAPTURED_VALUES)
            .map(|v| {
                let text = String::from_utf8_lossy(v.as_bytes());
                StringValue::from(truncate(&text, MAX_CAPTURED_VALUE_LEN).into_owned())
            })
            .collect();
        if !values.is_empty() {
            recording.set_attribute(KeyValue::new(
                key.clone(),
                Value::Array(Array::String(values)),
            ));
        }
    }
}

impl<P: crate::layer::protocol::Protocol> LayerBuilder<P> {
    /// Records the request headers named here (case-insensitive) on the span, as span
    /// attributes only:
    ///
    /// | layer | request | response |
    /// |---|---|---|
    /// | HTTP server / client | `http.request.header.<name>` | `http.response.header.<name>` |
    /// | gRPC server / client | `rpc.request.metadata.<name>` | `rpc.response.metadata.<name>` |
    ///
    /// `<name>` is the lower-cased header name; the value is the list of the header's values, in
    /// order, as strings (8 values at most, each capped at 256 bytes; bytes that are not UTF-8
    /// are replaced; 32 names at most per direction). Without this call the names come from the
    /// OpenTelemetry agents' variables (HTTP:
    /// `OTEL_INSTRUMENTATION_HTTP_{SERVER,CLIENT}_CAPTURE_{REQUEST,RESPONSE}_HEADERS`; gRPC:
    /// `OTEL_INSTRUMENTATION_GRPC_{SERVER,CLIENT}_{REQUEST,RESPONSE}_METADATA_INCLUDED`, then
    /// `OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_{SERVER,CLIENT}_{REQUEST,RESPONSE}`); nothing
    /// is captured by default.
    ///
    /// Credentials (`authorization`, `cookie`, `set-cookie`, `proxy-authorization`,
    /// `x-api-key`) are refused even when named, unless
    /// [`capture_sensitive_headers(true)`](Self::capture_sensitive_headers) is also set (a switch
    /// only code can turn on). Captured values never go on a metric (they are set on the span
    /// after it started, so the sampler does not see them either) and cost nothing on
    /// unsampled requests.
    ///
    /// ```
    /// # #[cfg(feature = "http")] {
    /// let layer = otel_rpc::HttpServerLayer::builder()
    ///     .capture_request_headers(["X-Request-Id", "accept-language"])
    ///     .capture_response_headers(["content-type"])
    ///     .build();
    /// # let _ = layer; }
    /// ```
    pub fn capture_request_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.capture.request = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// [`capture_request_headers`](Self::capture_request_headers) for the response
    /// (`http.response.header.<name>`, `rpc.response.metadata.<name>`; gRPC: the response
    /// head's metadata, not the trailers).
    pub fn capture_response_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.capture.response = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// With `true`, the credential headers (`authorization`, `cookie`, `set-cookie`,
    /// `proxy-authorization`, `x-api-key`) are captured when named
    /// (by code or variable). Default `false`: they are refused even when named, so a
    /// variable set for a fleet cannot make spans carry tokens and session cookies.
    pub fn capture_sensitive_headers(mut self, on: bool) -> Self {
        self.capture.sensitive = on;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_credentials_refused() {
        let config = CaptureConfig {
            request: Some(vec![
                " X-Request-Id ".into(),
                "x-request-id".into(),
                "Authorization".into(),
                "bad name".into(),
                "x-*".into(),
            ]),
            response: Some(vec!["Set-Cookie".into()]),
            sensitive: false,
        };
        let capture = config.resolve("http", Side::Server);
        assert_eq!(
            format!("{capture:?}"),
            r#"HeaderCapture { request: ["x-request-id"], response: [] }"#
        );
        let with_secrets = CaptureConfig {
            sensitive: true,
            ..config
        }
        .resolve("grpc", Side::Client);
        let r = with_secrets.inner.expect("resolved");
        assert_eq!(
            r.request[1].1.as_str(),
            "rpc.request.metadata.authorization"
        );
        assert_eq!(r.response[0].1.as_str(), "rpc.response.metadata.set-cookie");
        let none = CaptureConfig {
            request: Some(vec![]),
            response: Some(vec![]),
            sensitive: false,
        };
        assert!(none.resolve("http", Side::Client).inner.is_none());
    }
}
