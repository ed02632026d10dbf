//! gRPC status codes: names, where to find them in a response, and which are errors.
//! The `grpc-message` next to them is the peer's text: read only when the application opted
//! in to scrubbed error text.

use std::any::Any;
use std::error::Error;

use http::HeaderMap;
use http::header::HeaderName;

const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");

/// The `grpc-message` in a header map, percent-decoded (invalid UTF-8 replaced).
pub(crate) fn message_in(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(GRPC_MESSAGE)?.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                bytes.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned()).filter(|m| !m.is_empty())
}

/// The canonical name of a gRPC status code, e.g. `NOT_FOUND` for 5.
pub fn code_name(code: u32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// `true` when a server span ends in error for `code`: UNKNOWN, DEADLINE_EXCEEDED,
/// UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS (the codes that mean the server failed),
/// and any code outside the known range. The rule is the classifier's
/// ([`GRPC_SERVER_ERROR_CODES`](crate::classify::GRPC_SERVER_ERROR_CODES)).
#[cfg(any(test, feature = "testing"))]
pub fn is_server_error(code: u32) -> bool {
    i32::try_from(code).map_or(true, crate::classify::grpc_server_error)
}

/// The `grpc-status` in a header map (response head of a trailers-only response, or trailers).
pub(crate) fn status_in(headers: &HeaderMap) -> Option<u32> {
    // A response head or trailers map holds a few names: comparing them is cheaper than
    // hashing `grpc-status` for a look-up.
    let value = if headers.keys_len() <= SCAN_MAX_HEADERS {
        headers
            .iter()
            .find_map(|(name, value)| (*name == GRPC_STATUS).then_some(value))
    } else {
        headers.get(GRPC_STATUS)
    }?;
    match value.as_bytes() {
        [digit @ b'0'..=b'9'] => Some(u32::from(digit - b'0')),
        _ => value.to_str().ok()?.trim().parse().ok(),
    }
}

/// Header maps with at most this many names are scanned for `grpc-status`.
const SCAN_MAX_HEADERS: usize = 8;

/// The code tonic gives the application when the client's service (a tonic `Channel`, or a
/// stack of layers over one) returned `error` instead of a response, as tonic's client reads
/// the error's source chain: a `Status` in it is that status, tonic's `TimeoutExpired`
/// (`Endpoint::timeout`, `Request::set_timeout`) is `CANCELLED`, a `ConnectError` is
/// `UNAVAILABLE`. Any other error, and an error type other than tonic's transport error, a
/// `Status` or a boxed error, is `UNAVAILABLE` (a transport failure).
pub(crate) fn client_error_code(error: &(dyn Any + 'static)) -> u32 {
    let mut next: Option<&(dyn Error + 'static)> =
        if let Some(e) = error.downcast_ref::<tonic::transport::Error>() {
            Some(e)
        } else if let Some(e) = error.downcast_ref::<Box<dyn Error + Send + Sync>>() {
            Some(&**e)
        } else if let Some(e) = error.downcast_ref::<tonic::Status>() {
            Some(e)
        } else {
            None
        };
    while let Some(e) = next {
        if let Some(status) = e.downcast_ref::<tonic::Status>() {
            return u32::try_from(i32::from(status.code())).unwrap_or(super::UNKNOWN);
        }
        if e.is::<tonic::TimeoutExpired>() {
            return super::CANCELLED;
        }
        if e.is::<tonic::ConnectError>() {
            return super::UNAVAILABLE;
        }
        next = e.source();
    }
    super::UNAVAILABLE
}

/// The code a client infers from a non-200 HTTP status without `grpc-status`, per the gRPC
/// HTTP/2 protocol mapping.
pub(crate) fn code_from_http_status(status: http::StatusCode) -> u32 {
    match status.as_u16() {
        200 => 2,
        400 => 13,
        401 => 16,
        403 => 7,
        404 => 12,
        429 | 502..=504 => 14,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_classes() {
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(5), "NOT_FOUND");
        assert_eq!(code_name(99), "UNKNOWN");
        assert!(!is_server_error(5));
        assert!(is_server_error(13));
        assert!(!is_server_error(0));
        assert_eq!(code_from_http_status(http::StatusCode::NOT_FOUND), 12);
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_MESSAGE, "a%20b%2".parse().expect("value"));
        assert_eq!(message_in(&headers).as_deref(), Some("a b%2"));
        assert_eq!(status_in(&headers), None);
        for pad in [0, SCAN_MAX_HEADERS + 2] {
            for i in 0..pad {
                let name = HeaderName::try_from(format!("x-pad-{i}")).expect("name");
                headers.insert(name, "1".parse().expect("value"));
            }
            for (value, code) in [
                ("0", Some(0)),
                ("5", Some(5)),
                ("16", Some(16)),
                (" 14 ", Some(14)),
                ("x", None),
                ("-1", None),
            ] {
                headers.insert(GRPC_STATUS, value.parse().expect("value"));
                assert_eq!(status_in(&headers), code, "{value:?} among {pad} more");
            }
        }
    }
}
