//! [`KnownMethods`]: which HTTP methods are recorded as themselves on `http.request.method`
//! and in span names; every other method is `_OTHER` there, with the original (capped) on the
//! span as `http.request.method_original`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::Method;

use crate::untrusted::OTHER;

/// The environment variable the conventions name for overriding the known methods: a
/// comma-separated, case-sensitive list that replaces the default set.
pub const KNOWN_METHODS_ENV: &str = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS";

/// The conventions' default known methods: RFC 9110's, `PATCH` (RFC 5789) and `QUERY`
/// (the safe method with a body, semantic conventions 1.42).
pub const DEFAULT_KNOWN_METHODS: &[&str] = &[
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE",
];

/// Most methods a custom set holds; later entries are ignored (each one is a possible value
/// of a metric attribute).
pub const MAX_KNOWN_METHODS: usize = 64;

/// The HTTP methods recorded as themselves; any other method is recorded as `_OTHER` (span
/// name and `http.request.method`, so span names and metric series stay bounded) and the
/// original goes to `http.request.method_original` on the span, capped at 64 bytes.
///
/// The default ([`KnownMethods::default`]) is the variable `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` when it is
/// set to a non-blank value, else the conventions' set (`GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`, `OPTIONS`, `TRACE`, `PATCH`, `QUERY`). A list,
/// from code or from the variable, replaces the default set (it does not add to it), and is
/// compared case-sensitively, as the conventions require.
///
/// ```
/// # #[cfg(feature = "http")] {
/// use otel_rpc::{HttpServerLayer, KnownMethods};
///
/// let methods = KnownMethods::new(["GET", "POST", "PURGE"]);
/// assert!(methods.contains("PURGE"));
/// assert!(!methods.contains("purge"));
/// assert!(!methods.contains("PUT"));
/// let layer = HttpServerLayer::builder().known_methods(methods).build();
/// # let _ = layer; }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct KnownMethods {
    /// `None`: the conventions' set (matched without a look-up).
    custom: Option<Arc<[Box<str>]>>,
}

impl fmt::Debug for KnownMethods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.custom {
            None => f.debug_list().entries(DEFAULT_KNOWN_METHODS).finish(),
            Some(list) => f.debug_list().entries(list.iter()).finish(),
        }
    }
}

impl Default for KnownMethods {
    /// [`from_env`](Self::from_env).
    fn default() -> Self {
        Self::from_env()
    }
}

impl KnownMethods {
    /// The conventions' default set, `GET`, `HEAD`, `POST`, `PUT`, `DELETE`, `CONNECT`, `OPTIONS`, `TRACE`, `PATCH`, `QUERY`, whatever the environment.
    pub fn conventions() -> Self {
        KnownMethods { custom: None }
    }

    /// Exactly `methods` (blank and invalid entries, i.e. not an HTTP token, are skipped;
    /// at most 64 methods). An empty list makes every method `_OTHER`.
    pub fn new<I, S>(methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<Box<str>> = Vec::new();
        for method in methods {
            let method = method.as_ref().trim();
            if method.is_empty() || Method::from_bytes(method.as_bytes()).is_err() {
                continue;
            }
            if list.len() == MAX_KNOWN_METHODS {
                break;
            }
            if !list.iter().any(|m| &**m == method) {
                list.push(method.into());
            }
        }
        KnownMethods {
            custom: Some(list.into()),
        }
    }

    /// The set of `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` (comma-separated) when it is set and not blank, else
    /// [`conventions`](Self::conventions).
    pub fn from_env() -> Self {
        match std::env::var(KNOWN_METHODS_ENV) {
            Ok(list) if !list.trim().is_empty() => Self::parse(&list),
            _ => Self::conventions(),
        }
    }

    /// The set of a comma-separated list, as the variable gives it.
    pub fn parse(list: &str) -> Self {
        Self::new(list.split(','))
    }

    /// `true` when `method` is recorded as itself (case-sensitive).
    pub fn contains(&self, method: &str) -> bool {
        match &self.custom {
            None => DEFAULT_KNOWN_METHODS.contains(&method),
            Some(list) => list.iter().any(|m| &**m == method),
        }
    }

    /// The `http.request.method` value of `method` (also the span name's method) and, when
    /// that is `_OTHER`, the original method for `http.request.method_original`. Allocates only
    /// for a custom method outside the conventions' set.
    pub(crate) fn classify<'a>(&self, method: &'a Method) -> (Cow<'static, str>, Option<&'a str>) {
        let name = method.as_str();
        let known = self.contains(name);
        match (known, conventions_name(name)) {
            (true, Some(name)) => (Cow::Borrowed(name), None),
            (true, None) => (Cow::Owned(name.to_owned()), None),
            (false, _) => (Cow::Borrowed(OTHER), Some(name)),
        }
    }
}

/// `method` as the `'static` entry of the conventions' set, when it is one.
fn conventions_name(method: &str) -> Option<&'static str> {
    DEFAULT_KNOWN_METHODS.iter().copied().find(|m| *m == method)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(s: &str) -> Method {
        Method::from_bytes(s.as_bytes()).expect("valid method")
    }

    #[test]
    fn conventions_set_has_query_and_is_case_sensitive() {
        let set = KnownMethods::conventions();
        assert_eq!(set.classify(&Method::GET), (Cow::Borrowed("GET"), None));
        assert_eq!(
            set.classify(&method("QUERY")),
            (Cow::Borrowed("QUERY"), None)
        );
        assert_eq!(
            set.classify(&method("get")),
            (Cow::Borrowed("_OTHER"), Some("get"))
        );
        assert_eq!(
            set.classify(&method("PURGE")),
            (Cow::Borrowed("_OTHER"), Some("PURGE"))
        );
    }

    #[test]
    fn a_list_replaces_the_set() {
        let set = KnownMethods::parse(" GET, PURGE ,,bad method,GET");
        assert_eq!(format!("{set:?}"), r#"["GET", "PURGE"]"#);
        assert!(matches!(set.classify(&method("PURGE")).0, Cow::Owned(ref m) if m == "PURGE"));
        assert_eq!(set.classify(&Method::POST).0, "_OTHER");
        let none = KnownMethods::new(Vec::<String>::new());
        assert_eq!(none.classify(&Method::GET).0, "_OTHER");
        let many = KnownMethods::new((0..100).map(|i| format!("M{i}")));
        assert!(many.contains("M63") && !many.contains("M64"));
    }
}
