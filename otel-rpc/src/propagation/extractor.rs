//! [`BoundedExtractor`]: the carrier view every propagator gets on the server side.

use std::borrow::Cow;
use std::cell::OnceCell;

use opentelemetry::propagation::Extractor;

use super::{MAX_PROPAGATION_HEADER_LEN, baggage, traceparent::valid_traceparent, tracestate};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
const BAGGAGE: &str = "baggage";

/// Wraps an incoming carrier so that any propagator (W3C, B3, Jaeger, ...) reads it through
/// the W3C rules and size limits:
///
/// * `traceparent`: handed on only when valid (`valid_traceparent`);
///   present more than once (several header lines) it is treated as absent, so the request
///   starts a new trace;
/// * `tracestate`: header lines combined in order, the whole value dropped when any member
///   is invalid, truncated to 512 characters (see `MAX_TRACESTATE_LEN`);
/// * `baggage`: header lines combined, invalid or oversized members dropped, at most
///   `MAX_BAGGAGE_MEMBERS` members and
///   `MAX_BAGGAGE_LEN` bytes;
/// * any other field (B3, Jaeger, ...): values longer than [`MAX_PROPAGATION_HEADER_LEN`] are
///   treated as absent, so a hostile peer cannot make a propagator parse megabytes.
///
/// [`SpanRecorder::extract`](crate::SpanRecorder::extract) applies it to every carrier, so a
/// lenient propagator (the SDK's `TraceContextPropagator` continues `00-1-2-01`) never sees an
/// invalid value. A valid `traceparent` costs byte comparisons and the carrier's `get_all`.
///
/// ```
/// use std::collections::HashMap;
/// use opentelemetry::propagation::Extractor;
/// use otel_rpc::testing::BoundedExtractor;
///
/// let mut headers = HashMap::new();
/// headers.insert("traceparent".to_string(), "00-1-2-01".to_string());
/// headers.insert("baggage".to_string(), "user=alice,bad key=1".to_string());
/// let strict = BoundedExtractor::new(&headers);
/// assert_eq!(strict.get("traceparent"), None);
/// assert_eq!(strict.get("baggage"), Some("user=alice"));
/// ```
pub struct BoundedExtractor<'a> {
    inner: &'a dyn Extractor,
    /// The header map behind `inner`, when the carrier is one: its W3C lines are read
    /// without collecting them into a vector.
    #[cfg(feature = "http")]
    headers: Option<&'a http::HeaderMap>,
    /// The W3C fields' lines found by one pass over a small header map (`W3C` order).
    #[cfg(feature = "http")]
    scanned: Option<[Lines<'a>; 3]>,
    tracestate: OnceCell<Option<Cow<'a, str>>>,
    baggage: OnceCell<Option<Cow<'a, str>>>,
}

impl<'a> BoundedExtractor<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a dyn Extractor) -> Self {
        Self {
            inner,
            #[cfg(feature = "http")]
            headers: None,
            #[cfg(feature = "http")]
            scanned: None,
            tracestate: OnceCell::new(),
            baggage: OnceCell::new(),
        }
    }

    /// Wraps the header carrier `inner` of `headers` (the same rules, read from the map).
    #[cfg(feature = "http")]
    pub(crate) fn headers(inner: &'a dyn Extractor, headers: &'a http::HeaderMap) -> Self {
        // A request's few headers are compared once against the three names, rather than
        // each name hashed and looked up.
        let scanned = (headers.keys_len() <= SCAN_MAX_HEADERS).then(|| {
            let mut found = [Lines::default(); 3];
            for (name, value) in headers {
                let field = match name.as_str() {
                    TRACEPARENT => &mut found[0],
                    TRACESTATE => &mut found[1],
                    BAGGAGE => &mut found[2],
                    _ => continue,
                };
                field.more = field.first.is_some();
                field.first.get_or_insert(value);
            }
            found
        });
        Self {
            headers: Some(headers),
            scanned,
            ..Self::new(inner)
        }
    }

    /// The value of `key` (a W3C field) with every header line of it handed to `f`; a line
    /// that is not visible ASCII is `""`, so it still counts as a line.
    fn with_lines<R>(&self, key: &'static str, f: impl FnOnce(&[&'a str]) -> R) -> R {
        #[cfg(feature = "http")]
        if let (Some(headers), Some(name)) = (self.headers, crate::layer::headers::known_name(key))
        {
            let text = |v: &'a http::HeaderValue| v.to_str().unwrap_or("");
            let field = [TRACEPARENT, TRACESTATE, BAGGAGE]
                .iter()
                .position(|k| *k == key);
            match self.scanned.zip(field).map(|(found, i)| found[i]) {
                Some(Lines { first: None, .. }) => return f(&[]),
                Some(Lines {
                    first: Some(one),
                    more: false,
                }) => return f(&[text(one)]),
                _ => {}
            }
            let mut lines = headers.get_all(name).iter();
            return match (lines.next(), lines.next()) {
                (None, _) => f(&[]),
                (Some(one), None) => f(&[text(one)]),
                (Some(a), Some(b)) => {
                    let all: Vec<&str> = [a, b].into_iter().chain(lines).map(text).collect();
                    f(&all)
                }
            };
        }
        let inner: &'a dyn Extractor = self.inner;
        f(&inner.get_all(key).unwrap_or_default())
    }
}

/// Header maps with at most this many names are scanned once for the W3C fields.
#[cfg(feature = "http")]
const SCAN_MAX_HEADERS: usize = 16;

/// The first header line of a field, and whether it has more.
#[cfg(feature = "http")]
#[derive(Clone, Copy, Default)]
struct Lines<'a> {
    first: Option<&'a http::HeaderValue>,
    more: bool,
}

impl std::fmt::Debug for BoundedExtractor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedExtractor").finish_non_exhaustive()
    }
}

impl Extractor for BoundedExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        if key.eq_ignore_ascii_case(TRACEPARENT) {
            self.with_lines(TRACEPARENT, |lines| match lines {
                [only] => valid_traceparent(only),
                _ => None,
            })
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            self.tracestate
                .get_or_init(|| self.with_lines(TRACESTATE, tracestate::combine))
                .as_deref()
        } else if key.eq_ignore_ascii_case(BAGGAGE) {
            self.baggage
                .get_or_init(|| self.with_lines(BAGGAGE, baggage::clean))
                .as_deref()
        } else {
            self.inner
                .get(key)
                .filter(|v| v.len() <= MAX_PROPAGATION_HEADER_LEN)
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.inner.keys()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let w3c = [TRACEPARENT, TRACESTATE, BAGGAGE];
        if w3c.iter().any(|k| key.eq_ignore_ascii_case(k)) {
            return self.get(key).map(|v| vec![v]);
        }
        let values: Vec<&str> = self
            .inner
            .get_all(key)?
            .into_iter()
            .filter(|v| v.len() <= MAX_PROPAGATION_HEADER_LEN)
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A carrier with several lines per key, like an HTTP header map.
    struct Lines(Vec<(&'static str, String)>);

    impl Extractor for Lines {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| *k).collect()
        }
        fn get_all(&self, key: &str) -> Option<Vec<&str>> {
            let all: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            (!all.is_empty()).then_some(all)
        }
    }

    const TP: &str = "00-12345678901234567890123456789012-1234567890123456-01";

    #[test]
    fn oversized_values_are_hidden() {
        let mut map = HashMap::new();
        map.insert("baggage".to_string(), "a=".to_string() + &"x".repeat(9000));
        map.insert("x-b3-traceid".to_string(), "x".repeat(9000));
        map.insert("x-b3-spanid".to_string(), "short".to_string());
        let bounded = BoundedExtractor::new(&map);
        assert_eq!(bounded.get("baggage"), None);
        assert_eq!(bounded.get("x-b3-traceid"), None);
        assert_eq!(bounded.get("x-b3-spanid"), Some("short"));
    }

    #[test]
    fn a_duplicated_traceparent_is_absent() {
        let one = Lines(vec![("traceparent", TP.into())]);
        assert_eq!(BoundedExtractor::new(&one).get("traceparent"), Some(TP));
        let two = Lines(vec![("traceparent", TP.into()), ("traceparent", TP.into())]);
        assert_eq!(BoundedExtractor::new(&two).get("traceparent"), None);
        assert_eq!(BoundedExtractor::new(&two).get_all("traceparent"), None);
    }

    /// The header-map view reads the same values as the generic one, line rules included.
    #[cfg(feature = "http")]
    #[test]
    fn the_header_map_view_is_the_generic_view() {
        use crate::layer::headers::HeaderExtractor;
        use http::{HeaderMap, HeaderValue};
        let line = |v: &'static [u8]| HeaderValue::from_bytes(v).expect("header value");
        let cases: Vec<Vec<(&str, HeaderValue)>> = vec![
            vec![],
            vec![("traceparent", line(TP.as_bytes()))],
            vec![
                ("traceparent", line(TP.as_bytes())),
                ("traceparent", line(TP.as_bytes())),
            ],
            vec![("traceparent", line(b"00-1-2-01"))],
            vec![
                ("tracestate", line(b"a=1")),
                ("tracestate", line(b"b=\xff")),
                ("tracestate", line(b"c=3")),
                ("baggage", line(b"k=v,bad key=1")),
                ("baggage", line(b"k2=v2")),
            ],
            vec![
                ("tracestate", line(b"foo=1,bar=2")),
                ("baggage", line(b"\xff")),
            ],
        ];
        // Small maps are scanned once, larger ones looked up: both views must agree.
        for (case, pad) in cases
            .iter()
            .flat_map(|case| [(case, 0), (case, SCAN_MAX_HEADERS + 4)])
        {
            let mut map = HeaderMap::new();
            for i in 0..pad {
                map.append(
                    http::HeaderName::try_from(format!("x-pad-{i}")).expect("name"),
                    line(b"1"),
                );
            }
            for (name, value) in case {
                map.append(*name, value.clone());
            }
            let generic = HeaderExtractor(&map);
            let direct = BoundedExtractor::headers(&generic, &map);
            let generic = BoundedExtractor::new(&generic);
            for key in ["traceparent", "tracestate", "baggage", "TraceParent"] {
                assert_eq!(direct.get(key), generic.get(key), "{key} of {map:?}");
            }
        }
    }

    #[test]
    fn tracestate_and_baggage_lines_are_combined() {
        let carrier = Lines(vec![
            ("tracestate", "foo=1".into()),
            ("tracestate", "bar=2".into()),
            ("baggage", "a=1".into()),
            ("baggage", "b=2,bad key=3".into()),
        ]);
        let strict = BoundedExtractor::new(&carrier);
        assert_eq!(strict.get("tracestate"), Some("foo=1,bar=2"));
        assert_eq!(strict.get("TraceState"), Some("foo=1,bar=2"));
        assert_eq!(strict.get("baggage"), Some("a=1,b=2"));
        assert_eq!(strict.get_all("baggage"), Some(vec!["a=1,b=2"]));
        assert_eq!(strict.keys().len(), 4);
    }
}
