//! Facts about an HTTP request in semantic-convention form (the method is classified by
//! [`KnownMethods`](super::KnownMethods)): server address and port, protocol version, and URLs with credentials and query values redacted.

use std::borrow::Cow;

use http::{HeaderMap, Uri, Version, header};

use crate::untrusted::OTHER;

/// `network.protocol.version` for an HTTP version.
pub(crate) fn protocol_version(version: Version) -> Option<&'static str> {
    match version {
        Version::HTTP_09 => Some("0.9"),
        Version::HTTP_10 => Some("1.0"),
        Version::HTTP_11 => Some("1.1"),
        Version::HTTP_2 => Some("2"),
        Version::HTTP_3 => Some("3"),
        _ => None,
    }
}

/// The server's host and, when explicit, port as the client addressed it: the URI authority
/// (HTTP/2, absolute-form) or else the `Host` header.
pub(crate) fn server_host_port<'a>(
    uri: &'a Uri,
    headers: &'a HeaderMap,
) -> Option<(&'a str, Option<u16>)> {
    if let Some(authority) = uri_host_port(uri) {
        return Some(authority);
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    split_host_port(host)
}

/// The host (brackets of an IPv6 address removed) and explicit port of a URI's authority,
/// split in one pass (`Uri::host` and `Uri::port_u16` each parse the authority again).
pub(crate) fn uri_host_port(uri: &Uri) -> Option<(&str, Option<u16>)> {
    let authority = uri.authority()?.as_str();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    split_host_port(host_port)
}

/// Splits `host[:port]` / `[v6][:port]`.
pub(crate) fn split_host_port(value: &str) -> Option<(&str, Option<u16>)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Some(rest) = value.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let port = rest[end + 1..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        return Some((host, port));
    }
    match value.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Some((host, port.parse().ok())),
        _ => Some((value, None)),
    }
}

/// `url.scheme` of a server request: `https` when the request URI says so (HTTP/2
/// `:scheme`, absolute-form targets), else `http`. Never from headers such as
/// `X-Forwarded-Proto`; a closed set of two values.
pub(crate) fn server_scheme(scheme: Option<&str>) -> &'static str {
    match scheme {
        Some(s) if s.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    }
}

/// `url.scheme` of a client request URI, from the closed set `http`, `https`, `ws`, `wss`,
/// else `_OTHER`.
pub(crate) fn client_scheme(scheme: &str) -> &'static str {
    const KNOWN: [&str; 4] = ["http", "https", "ws", "wss"];
    KNOWN
        .into_iter()
        .find(|known| scheme.eq_ignore_ascii_case(known))
        .unwrap_or(OTHER)
}

/// The default port of a scheme.
pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// The replacement of every redacted part of a URL.
pub const REDACTED: &str = "REDACTED";

/// A URL fit for `url.full`: user name and password replaced by `REDACTED` and every query
/// value replaced by `REDACTED` (keys are kept; a component without `=` is all value), the
/// fragment dropped.
///
/// ```
/// use otel_rpc::testing::redact_url;
/// assert_eq!(
///     redact_url("https://bob:secret@example.com:8443/a?token=abc&x"),
///     "https://REDACTED:REDACTED@example.com:8443/a?token=REDACTED&REDACTED"
/// );
/// ```
#[cfg_attr(not(any(feature = "reqwest", feature = "testing")), allow(dead_code))]
pub fn redact_url(url: &str) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len() + 16);
    match before_query.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            push_authority(&mut out, authority);
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(query) = query {
        out.push('?');
        out.push_str(&redact_query(query));
    }
    out
}

/// Appends `authority` with its userinfo, if any, replaced by `REDACTED` (`REDACTED:REDACTED`
/// when it has a password part): the one rule of [`redact_url`] and [`redact_uri`].
fn push_authority(out: &mut String, authority: &str) {
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            out.push_str(REDACTED);
            if userinfo.contains(':') {
                out.push(':');
                out.push_str(REDACTED);
            }
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
}

/// The length of `authority` as [`push_authority`] writes it.
fn redacted_authority_len(authority: &str) -> usize {
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let password = if userinfo.contains(':') {
                1 + REDACTED.len()
            } else {
                0
            };
            REDACTED.len() + password + 1 + host.len()
        }
        None => authority.len(),
    }
}

/// [`redact_url`] of a request URI, built from its parts without formatting or re-parsing
/// (the client span's `url.full`, given at span start).
pub(crate) fn redact_uri(uri: &Uri) -> String {
    let query = uri.query().map(redact_query);
    let authority = uri.authority().map(http::uri::Authority::as_str);
    // Sized exactly: the `String` becomes the attribute's boxed text, and a spare byte
    // would cost a reallocation there.
    let mut out = String::with_capacity(
        uri.scheme_str().map_or(0, |s| s.len() + 3)
            + authority.map_or(0, redacted_authority_len)
            + uri.path().len()
            + query.as_ref().map_or(0, |q| q.len() + 1),
    );
    if let Some(scheme) = uri.scheme_str() {
        out.push_str(scheme);
        out.push_str("://");
    }
    if let Some(authority) = authority {
        push_authority(&mut out, authority);
    }
    out.push_str(uri.path());
    if let Some(query) = query {
        out.push('?');
        out.push_str(&query);
    }
    out
}

/// Every value of a query string replaced by `REDACTED`: in a `key=value` component the
/// value, and a component without `=` (a bare token such as the `?3f9a...` of a magic link)
/// is all value. Empty components stay empty.
pub(crate) fn redact_query(query: &str) -> Cow<'_, str> {
    if query.is_empty() {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, component) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match component.split_once('=') {
            Some((key, _)) => {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED);
            }
            None if component.is_empty() => {}
            None => out.push_str(REDACTED),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::values::valid_host;

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host_port("a.example:81"),
            Some(("a.example", Some(81)))
        );
        assert_eq!(split_host_port("a.example"), Some(("a.example", None)));
        assert_eq!(split_host_port("[::1]:8080"), Some(("::1", Some(8080))));
        assert_eq!(split_host_port("[::1]"), Some(("::1", None)));
        assert_eq!(split_host_port(""), None);
        assert!(valid_host("a-b.example"));
        assert!(valid_host("::1"));
        assert!(!valid_host("a b"));
        assert!(!valid_host("a\"b"));
        assert!(!valid_host(&"a".repeat(254)));
        assert_eq!(server_scheme(Some("HTTPS")), "https");
        assert_eq!(server_scheme(Some("gopher")), "http");
        assert_eq!(server_scheme(None), "http");
        assert_eq!(client_scheme("wss"), "wss");
        assert_eq!(client_scheme("javascript"), "_OTHER");
        let uri: Uri = "http://[::1]:9/x".parse().expect("uri");
        assert_eq!(
            server_host_port(&uri, &HeaderMap::new()),
            Some(("::1", Some(9)))
        );
    }

    #[test]
    fn one_pass_authority_is_host_and_port_u16() {
        for url in [
            "http://127.0.0.1:8080/users/42",
            "http://a.example/x",
            "https://u:p@a.example:8443/",
            "http://[::1]:9/x",
            "http://[::1]/x",
            "http://a.example:/x",
            "/relative",
        ] {
            let uri: Uri = url.parse().expect("uri");
            let http_crate = uri.host().map(|h| {
                let h = h
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(h);
                (h, uri.port_u16())
            });
            assert_eq!(uri_host_port(&uri), http_crate, "{url}");
        }
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact_url("http://h/p"), "http://h/p");
        assert_eq!(
            redact_url("http://u@h/p?a=1&b=2#frag"),
            "http://REDACTED@h/p?a=REDACTED&b=REDACTED"
        );
        assert_eq!(redact_url("http://u:p@h"), "http://REDACTED:REDACTED@h");
        assert_eq!(redact_url("/rel?x=1"), "/rel?x=REDACTED");
        assert_eq!(redact_url("http://h/p?3f9a0c7e"), "http://h/p?REDACTED");
        assert_eq!(
            redact_url("http://h/p?a=1&&tok"),
            "http://h/p?a=REDACTED&&REDACTED"
        );
        assert_eq!(redact_url("http://h/p?"), "http://h/p?");
        assert!(!redact_url("https://user:hunter2@h/?pw=hunter2").contains("hunter2"));
        for url in [
            "http://h/p",
            "http://u:p@h:81/p?a=1&b",
            "https://u@h/?pw=hunter2",
            "/rel?x=1",
        ] {
            let uri: Uri = url.parse().expect("uri");
            let redacted = redact_uri(&uri);
            assert_eq!(redacted, redact_url(&uri.to_string()), "{url}");
            assert_eq!(redacted.capacity(), redacted.len(), "{url}: sized exactly");
        }
    }
}
