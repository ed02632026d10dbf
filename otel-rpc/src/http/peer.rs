//! Telling the server who is calling: the client sends its service name in a header (as
//! kratos' metadata propagator does with `x-md-service-name`), the server records it as
//! `service.peer.name` (the current name of the former `peer.service`).

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

/// The header carrying the calling service's name. The same header as go-kratos, so Rust and
/// Go services see each other's names.
pub const PEER_SERVICE_HEADER: &str = "x-md-service-name";

/// [`PEER_SERVICE_HEADER`] as a header name, so lookups and inserts skip parsing it.
const PEER_SERVICE: HeaderName = HeaderName::from_static(PEER_SERVICE_HEADER);

/// Longest service name accepted from a peer; longer values are ignored.
pub const MAX_PEER_SERVICE_LEN: usize = 128;

/// The calling service's name sent by the client, if present and sane.
pub(crate) fn peer_service(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(PEER_SERVICE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= MAX_PEER_SERVICE_LEN)
}

/// A validated service name to send, ready to insert.
pub(crate) fn service_header_value(name: &str) -> Option<HeaderValue> {
    let value = HeaderValue::from_str(name).ok();
    if value.is_none() {
        crate::health::count_swallowed_error();
    }
    value
}

/// Inserts the service name header.
pub(crate) fn send_service_name(headers: &mut HeaderMap, value: Option<&HeaderValue>) {
    if let Some(value) = value {
        headers.insert(PEER_SERVICE, value.clone());
    }
}
