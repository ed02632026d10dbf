//! The one bounded set: the first `cap` distinct values admitted, later new values refused,
//! so values a client, server or application chooses cannot create metric series without
//! bound. [`FirstDistinct`] is the rule; [`BoundedValues`] shares one behind a lock (the
//! layers' server addresses and learned gRPC methods), and the recorders' database metric
//! bound keeps one per key under a single lock (`DistinctValues`).
//!
//! The sets hash with `foldhash` (seeded per process) rather than the standard library's
//! SipHash: SipHash's protection against chosen colliding keys matters for maps a remote party
//! can grow, and these cannot grow past their cap, so a worst-case collision costs at most that
//! many comparisons.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use opentelemetry::Value;

/// The first `cap` distinct keys admitted, each with its value `V`; a new key once `cap` are
/// admitted is refused.
#[derive(Debug, Clone)]
pub(crate) struct FirstDistinct<V> {
    cap: usize,
    admitted: HashMap<Box<str>, V, foldhash::fast::RandomState>,
}

impl<V> FirstDistinct<V> {
    /// Admits at most `cap` keys.
    pub(crate) fn new(cap: usize) -> Self {
        FirstDistinct {
            cap,
            admitted: HashMap::default(),
        }
    }

    /// The value of `key`, if it was admitted.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.admitted.get(key)
    }

    /// `true` when no new key is admitted any more.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.admitted.len() >= self.cap
    }

    /// How many keys are admitted.
    pub(crate) fn len(&self) -> usize {
        self.admitted.len()
    }

    /// The value of `key`, admitting it (with the value made by `value`) when there is room;
    /// `None` for a new key once the set is full.
    pub(crate) fn admit(&mut self, key: &str, value: impl FnOnce() -> V) -> Option<&V> {
        if !self.admitted.contains_key(key) {
            if self.is_full() {
                return None;
            }
            self.admitted.insert(key.into(), value());
        }
        self.admitted.get(key)
    }

    /// Admits `key` whatever the cap (configured values).
    pub(crate) fn insert(&mut self, key: &str, value: V) {
        self.admitted.insert(key.into(), value);
    }
}

/// A [`FirstDistinct`] of shared attribute values (cloning one is a reference-count bump),
/// shared between the services of a layer. Admitted values are read under the read lock; only a
/// new value while there is room takes the write lock. `V` is what each admitted key carries
/// (by default its attribute value; the gRPC layers' methods also carry their span name).
#[derive(Debug)]
pub(crate) struct BoundedValues<V = Value> {
    set: RwLock<FirstDistinct<V>>,
}

impl<V: Clone> Clone for BoundedValues<V> {
    fn clone(&self) -> Self {
        BoundedValues {
            set: RwLock::new(
                self.set
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone(),
            ),
        }
    }
}

impl<V: Clone> BoundedValues<V> {
    /// Used by the gRPC layer's learned-method set (and this module's tests).
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn new(cap: usize) -> Self {
        BoundedValues {
            set: RwLock::new(FirstDistinct::new(cap)),
        }
    }

    /// The value for `key`, if it was admitted before.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Like [`admit`](BoundedValues::admit), the value of a new key made by `value`.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn admit_as(&self, key: &str, value: impl FnOnce() -> V) -> Option<V> {
        if let Some(value) = self.get(key) {
            return Some(value);
        }
        self.set
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(key, value)
            .cloned()
    }

    /// Admits `key` with `value` whatever the cap (configured values).
    #[cfg_attr(not(feature = "grpc"), allow(dead_code))]
    pub(crate) fn insert_as(&mut self, key: &str, value: V) {
        self.set
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, value);
    }

    /// Number of values admitted.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl BoundedValues {
    /// The value for `key`, admitting it when there is room; `None` once the set is full.
    #[cfg(test)]
    pub(crate) fn admit(&self, key: &str) -> Option<Value> {
        self.admit_as(key, || shared(key))
    }
}

#[cfg(test)]
fn shared(text: &str) -> Value {
    Value::String(opentelemetry::StringValue::from(
        std::sync::Arc::<str>::from(text),
    ))
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
