//! Context propagation: the default propagator (W3C TraceContext + Baggage, as kratos uses) and
//! a guard that keeps oversized incoming headers away from the parsers.

use std::sync::Arc;

use opentelemetry::propagation::{Extractor, TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

/// A shareable propagator.
pub type SharedPropagator = Arc<dyn TextMapPropagator + Send + Sync>;

/// Largest header value handed to a propagator. W3C Baggage allows 8192 bytes in total and a
/// `traceparent` is 55 characters; anything longer is ignored (as if absent) instead of parsed.
pub const MAX_PROPAGATION_HEADER_LEN: usize = 8192;

/// W3C TraceContext + W3C Baggage, the default of every recorder.
pub fn default_propagator() -> SharedPropagator {
    Arc::new(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]))
}

/// Wraps an [`Extractor`] and hides values longer than [`MAX_PROPAGATION_HEADER_LEN`], so a
/// hostile peer cannot make the propagator parse megabytes of header.
pub struct BoundedExtractor<'a>(pub &'a dyn Extractor);

impl Extractor for BoundedExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .filter(|v| v.len() <= MAX_PROPAGATION_HEADER_LEN)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn oversized_values_are_hidden() {
        let mut map = HashMap::new();
        map.insert("baggage".to_string(), "a=".to_string() + &"x".repeat(9000));
        map.insert("traceparent".to_string(), "short".to_string());
        let bounded = BoundedExtractor(&map);
        assert_eq!(bounded.get("baggage"), None);
        assert_eq!(bounded.get("traceparent"), Some("short"));
    }
}
