//! [`BoundedValues`]: a set of attribute values that stops growing at a fixed size, so values a
//! remote peer chooses cannot create metric series without bound.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use opentelemetry::{StringValue, Value};

/// The first `cap` distinct values admitted, each kept as a shared attribute value (cloning
/// it is a reference-count bump). Values beyond the cap are refused.
#[derive(Debug)]
pub(crate) struct BoundedValues {
    cap: usize,
    seen: RwLock<HashMap<Box<str>, Value>>,
}

impl Clone for BoundedValues {
    fn clone(&self) -> Self {
        BoundedValues {
            cap: self.cap,
            seen: RwLock::new(
                self.seen
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone(),
            ),
        }
    }
}

impl BoundedValues {
    pub(crate) fn new(cap: usize) -> Self {
        BoundedValues {
            cap,
            seen: RwLock::new(HashMap::new()),
        }
    }

    /// The value for `key`, if it was admitted before.
    pub(crate) fn get(&self, key: &str) -> Option<Value> {
        self.seen
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// The value for `key`, admitting it when there is room; `None` once the set is full.
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn admit(&self, key: &str) -> Option<Value> {
        self.admit_as(key, || shared(key))
    }

    /// Like [`admit`](Self::admit), the value of a new key made by `value`.
    pub(crate) fn admit_as(&self, key: &str, value: impl FnOnce() -> Value) -> Option<Value> {
        if let Some(value) = self.get(key) {
            return Some(value);
        }
        let mut seen = self.seen.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = seen.get(key) {
            return Some(value.clone());
        }
        if seen.len() >= self.cap {
            return None;
        }
        let value = value();
        seen.insert(key.into(), value.clone());
        Some(value)
    }

    /// Admits `key` without returning it (configured values).
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn insert(&mut self, key: &str) {
        let seen = self.seen.get_mut().unwrap_or_else(PoisonError::into_inner);
        seen.insert(key.into(), shared(key));
    }

    /// Number of values admitted.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg_attr(not(feature = "grpc"), allow(dead_code))]
fn shared(text: &str) -> Value {
    Value::String(StringValue::from(Arc::<str>::from(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_cap() {
        let set = BoundedValues::new(2);
        assert!(set.admit("a").is_some());
        assert!(set.admit("b").is_some());
        assert!(set.admit("c").is_none());
        assert_eq!(
            set.admit("a").map(|v| v.as_str().into_owned()),
            Some("a".into())
        );
        assert!(set.get("c").is_none());
        assert_eq!(set.len(), 2);
    }
}
