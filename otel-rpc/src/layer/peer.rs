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

/// The calling service's name sent by the client, if present and shaped like a name (at most
/// [`MAX_PEER_SERVICE_LEN`] bytes, no whitespace, quotes or control characters: the untrusted
/// name rule of [`crate::untrusted::name_shape_ok`]). It goes on the server span only, never on
/// a metric.
pub(crate) fn peer_service(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(PEER_SERVICE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| v.len() <= MAX_PEER_SERVICE_LEN && crate::untrusted::name_shape_ok(v))
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

#[cfg(test)]
mod shape_tests {
    use super::*;

    #[test]
    fn only_name_shaped_peer_services_are_taken() {
        let mut headers = HeaderMap::new();
        for (value, expected) in [
            ("user-service", Some("user-service")),
            (" user ", Some("user")),
            ("token abc123", None),
            ("quo\"te", None),
            ("", None),
        ] {
            headers.insert(PEER_SERVICE, HeaderValue::from_str(value).unwrap());
            assert_eq!(peer_service(&headers), expected, "{value:?}");
        }
        headers.insert(
            PEER_SERVICE,
            HeaderValue::from_str(&"x".repeat(MAX_PEER_SERVICE_LEN + 1)).unwrap(),
        );
        assert_eq!(peer_service(&headers), None);
    }
}
