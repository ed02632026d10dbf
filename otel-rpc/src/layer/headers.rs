//! `http::HeaderMap` as a propagation carrier.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};

/// Reads propagation fields (`traceparent`, `baggage`, ...) from request headers. Values that
/// are not visible ASCII are treated as absent.
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Writes propagation fields into outgoing request headers. Fields that are not valid header
/// names or values are skipped (and counted as swallowed errors).
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        match (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
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
        assert_eq!(HeaderExtractor(&map).get("traceparent"), Some("00-abc"));
        assert_eq!(HeaderExtractor(&map).keys(), vec!["traceparent"]);
    }
}
