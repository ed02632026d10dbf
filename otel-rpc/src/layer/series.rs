//! [`BoundSeries`]: the duration metric's series of one layer, each bound once to its
//! attributes, so a call that ends like an earlier one records its point without the SDK
//! hashing and looking up its attributes again.
//!
//! A layer's metric attributes come from closed sets and bounded sets already (method, route
//! template, status code, scheme, protocol version, `rpc.method`), so a layer sees few distinct
//! sets; the cache keeps the first [`MAX_BOUND_SERIES`] and records any other set with its
//! attributes, as before. Only successful calls use it (a failure adds `error.type` at its
//! end), and only when the recorder's histogram may be bound (the SDK's meter provider given
//! explicitly, see `PreparedMetric`).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use opentelemetry::{KeyValue, Value};

use crate::metric::PreparedMetric;

/// Most bound series one layer keeps; further attribute sets are recorded unbound.
pub(crate) const MAX_BOUND_SERIES: usize = 512;

/// The bound series of one layer, by the hash of their attributes.
#[derive(Default)]
pub(crate) struct BoundSeries {
    hasher: foldhash::fast::RandomState,
    series: RwLock<HashMap<u64, Arc<PreparedMetric>, foldhash::fast::RandomState>>,
}

impl std::fmt::Debug for BoundSeries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundSeries").finish_non_exhaustive()
    }
}

impl BoundSeries {
    /// The series of exactly `attributes`, made when there is room; `None` for a set that
    /// has no series (the cache is full, a value is not a string, integer or boolean, or its
    /// hash is taken by another set).
    pub(crate) fn get(&self, attributes: &[KeyValue]) -> Option<Arc<PreparedMetric>> {
        let hash = self.hash(attributes)?;
        let same = |series: &Arc<PreparedMetric>| same_attributes(&series.attributes, attributes);
        if let Some(series) = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&hash)
        {
            return same(series).then(|| Arc::clone(series));
        }
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_BOUND_SERIES && !map.contains_key(&hash) {
            return None;
        }
        let series = map
            .entry(hash)
            .or_insert_with(|| Arc::new(PreparedMetric::new(attributes.into())));
        same(series).then(|| Arc::clone(series))
    }

    /// The hash of the values in order (the keys are compared on a hit); `None` for a value
    /// other than a string, integer or boolean.
    fn hash(&self, attributes: &[KeyValue]) -> Option<u64> {
        let mut h = self.hasher.build_hasher();
        for kv in attributes {
            match &kv.value {
                Value::String(s) => h.write(s.as_str().as_bytes()),
                Value::I64(i) => h.write_i64(*i),
                Value::Bool(b) => h.write_u8(u8::from(*b)),
                _ => return None,
            }
        }
        Some(h.finish())
    }

    /// Number of series.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// `a == b`, comparing texts that are the same static or shared string by address first
/// (the layers' keys and most of their values are).
fn same_attributes(a: &[KeyValue], b: &[KeyValue]) -> bool {
    let same_str = |x: &str, y: &str| x.len() == y.len() && (std::ptr::eq(x, y) || x == y);
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            same_str(x.key.as_str(), y.key.as_str())
                && match (&x.value, &y.value) {
                    (Value::String(x), Value::String(y)) => same_str(x.as_str(), y.as_str()),
                    (x, y) => x == y,
                }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(status: i64) -> Vec<KeyValue> {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", status),
        ]
    }

    #[test]
    fn one_series_per_attribute_set_up_to_the_cap() {
        let series = BoundSeries::default();
        let a = series.get(&attrs(200)).expect("series");
        let again = series.get(&attrs(200)).expect("series");
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(*a.attributes, *attrs(200));
        let b = series.get(&attrs(404)).expect("series");
        assert!(!Arc::ptr_eq(&a, &b));
        // Same values under other keys: another set, never the first one's series.
        let renamed = [
            KeyValue::new("http.request.methoX", "GET"),
            KeyValue::new("http.response.status_codX", 200_i64),
        ];
        assert!(series.get(&renamed).is_none());
        for status in 0..(MAX_BOUND_SERIES as i64 + 10) {
            let _ = series.get(&attrs(1000 + status));
        }
        assert_eq!(series.len(), MAX_BOUND_SERIES);
        assert!(series.get(&attrs(99_999)).is_none());
        assert!(
            series.get(&attrs(200)).is_some(),
            "admitted sets keep theirs"
        );
        assert!(
            series.get(&[KeyValue::new("f", 1.5_f64)]).is_none(),
            "only strings, integers and booleans"
        );
    }
}
