//! Attribute values every protocol takes from a request's head: a host shaped like a host,
//! and strings that span and metric share.

/// Longest host name accepted as `server.address` (the DNS limit).
pub(crate) const MAX_HOST_LEN: usize = 253;

/// `true` when `host` has the shape of a DNS name or an IP address (IPv6 without brackets):
/// 1 to 253 bytes of letters, digits, `-`, `.`, `_` and, for IPv6, `:`. Anything else in a
/// `Host` header is not recorded.
pub(crate) fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
}

/// A string attribute value that span and metric share (cloning it only bumps a count).
pub(crate) fn shared_str(value: &str) -> opentelemetry::Value {
    opentelemetry::Value::from(opentelemetry::StringValue::from(
        std::sync::Arc::<str>::from(value),
    ))
}
