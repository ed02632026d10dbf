//! `http::HeaderMap` as a propagation carrier.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// Reads propagation fields (`traceparent`, `baggage`, ...) from request headers. Values that
/// are not visible ASCII are treated as absent.
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

/// The header names the default propagators use, so they need no parsing per request.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// The header name of a default propagator's field, without parsing.
pub(crate) fn known_name(key: &str) -> Option<HeaderName> {
    match key {
        "traceparent" => Some(TRACEPARENT),
        "tracestate" => Some(TRACESTATE),
        "baggage" => Some(BAGGAGE),
        _ => None,
    }
}

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = match known_name(key) {
            Some(name) => self.0.get(name),
            None => self.0.get(key),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    /// Every header line of `key`, in order, so the strict propagation view can see a
    /// duplicated `traceparent` (a new trace) and combine `tracestate` / `baggage` lines. A
    /// line that is not visible ASCII is reported as `""`, so it still counts as a line.
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values = match known_name(key) {
            Some(name) => self.0.get_all(name),
            None => self.0.get_all(key),
        };
        let lines: Vec<&str> = values.iter().map(|v| v.to_str().unwrap_or("")).collect();
        (!lines.is_empty()).then_some(lines)
    }
}

/// Writes propagation fields into outgoing request headers. Fields that are not valid header
/// names or values are skipped (and counted as swallowed errors).
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let name = match known_name(key) {
            Some(name) => Ok(name),
            None => HeaderName::from_bytes(key.as_bytes()),
        };
        match (name, HeaderValue::from_str(&value)) {
            (Ok(name), Ok(value)) => {
                self.0.insert(name, value);
            }
            _ => crate::health::count_swallowed_error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut map = HeaderMap::new();
        HeaderInjector(&mut map).set("traceparent", "00-abc".into());
        HeaderInjector(&mut map).set("bad header", "x".into());
        HeaderInjector(&mut map).set("k", "bad\nvalue".into());
        HeaderInjector(&mut map).set("x-custom", "1".into());
        assert_eq!(HeaderExtractor(&map).get("x-custom"), Some("1"));
        map.remove("x-custom");
        assert_eq!(HeaderExtractor(&map).get("traceparent"), Some("00-abc"));
        assert_eq!(HeaderExtractor(&map).keys(), vec!["traceparent"]);
    }

    #[test]
    fn get_all_sees_every_line() {
        let mut map = HeaderMap::new();
        assert_eq!(HeaderExtractor(&map).get_all("tracestate"), None);
        map.append("tracestate", HeaderValue::from_static("a=1"));
        map.append(
            "tracestate",
            HeaderValue::from_bytes(b"b=\xff").expect("obs-text"),
        );
        map.append("tracestate", HeaderValue::from_static("c=3"));
        map.append("x-b3-traceid", HeaderValue::from_static("1"));
        let carrier = HeaderExtractor(&map);
        assert_eq!(carrier.get_all("tracestate"), Some(vec!["a=1", "", "c=3"]));
        assert_eq!(carrier.get_all("x-b3-traceid"), Some(vec!["1"]));
    }
}
