//! A per-recorder bound on the distinct values of the free-text database metric attributes
//! (`db.namespace`, `db.collection.name`, `db.operation.name`, `db.query.summary`).
//!
//! Capping a value's length bounds one series; it does not bound how many there are: 10,000
//! statements over 10,000 table names are 10,000 summaries. So each recorder admits the first
//! [`DurationMetric::max_distinct_values`](crate::DurationMetric::max_distinct_values) distinct
//! values of each of these keys onto its duration metric and records every later new value as
//! [`OTHER`] there (the span keeps the real, capped value). Values seen early, which is where
//! an application's own statements are, keep their series however much is thrown at it later,
//! instead of being folded into the SDK's overflow series with everything else.
//!
//! The common case, a value already admitted, takes a read lock once per operation and looks
//! each value up by hash (no allocation); only a value seen for the first time, while its key
//! still has room, takes the write lock and is copied.
//!
//! The sets hash with `foldhash` (seeded per process) rather than the standard library's
//! SipHash: SipHash's protection against chosen colliding keys matters for maps a remote party
//! can grow, and these cannot grow past the limit (256 values by default), so a worst-case
//! collision costs at most that many comparisons; foldhash cuts the four lookups of an
//! operation from ~800 to ~300 instructions (BENCHMARKS.md).

use std::sync::{PoisonError, RwLock};

use opentelemetry::{KeyValue, Value};

use super::bounded::FirstDistinct;
use super::db_keys::DB_KEYS;
use crate::untrusted::OTHER;

/// Number of bounded keys (the `DB_KEYS` with a slot).
pub(crate) const SLOTS: usize = 4;

/// The slot of `key`, when it is one of the bounded keys.
#[inline]
pub(crate) fn slot_of(key: &str) -> Option<usize> {
    // Compares `key` with the four bounded keys only, as a list of them would.
    DB_KEYS.iter().find_map(|k| match k.slot {
        Some(slot) if k.key == key => Some(usize::from(slot)),
        _ => None,
    })
}

/// Where a bounded value sits in a metric attribute list: (index in the list, slot).
pub(crate) type Entry = (u8, u8);

/// The admitted values of one key.
type Set = FirstDistinct<()>;

/// The first `limit` distinct values of each bounded key, per recorder (one lock for all keys,
/// so an operation's four lookups take it once).
pub(crate) struct DistinctValues {
    limit: usize,
    sets: RwLock<[Set; SLOTS]>,
}

impl std::fmt::Debug for DistinctValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistinctValues")
            .field("limit", &self.limit)
            .field("admitted", &self.admitted())
            .finish()
    }
}

impl DistinctValues {
    /// Admits at most `limit` distinct values per key.
    pub(crate) fn new(limit: usize) -> Self {
        DistinctValues {
            limit,
            sets: RwLock::new(std::array::from_fn(|_| FirstDistinct::new(limit))),
        }
    }

    /// How many values of each key (in slot order) are admitted.
    pub(crate) fn admitted(&self) -> [usize; SLOTS] {
        let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
        std::array::from_fn(|i| sets[i].len())
    }

    /// Replaces by [`OTHER`] the value of every `entries` attribute of `metric` that is not
    /// admitted and can no longer be (its key holds `limit` values); admits the others.
    pub(crate) fn apply(&self, metric: &mut [KeyValue], entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        // Bit e set: entries[e] is new and its key still had room under the read lock.
        let mut pending = 0u8;
        {
            let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
            for (e, &(pos, slot)) in entries.iter().enumerate() {
                let Some(kv) = metric.get_mut(usize::from(pos)) else {
                    continue;
                };
                let Value::String(s) = &kv.value else {
                    continue;
                };
                let set = &sets[usize::from(slot)];
                if set.get(s.as_str()).is_some() {
                    continue;
                }
                if set.is_full() {
                    kv.value = Value::from(OTHER);
                } else {
                    pending |= 1 << e;
                }
            }
        }
        if pending != 0 {
            self.admit(metric, entries, pending);
        }
    }

    /// The slow path: admits the `pending` entries while their key has room, else `OTHER`.
    #[cold]
    fn admit(&self, metric: &mut [KeyValue], entries: &[Entry], pending: u8) {
        let mut sets = self.sets.write().unwrap_or_else(PoisonError::into_inner);
        for (e, &(pos, slot)) in entries.iter().enumerate() {
            if pending & (1 << e) == 0 {
                continue;
            }
            let Some(kv) = metric.get_mut(usize::from(pos)) else {
                continue;
            };
            let Value::String(s) = &kv.value else {
                continue;
            };
            // Another operation may have admitted it, or filled the key, meanwhile.
            if sets[usize::from(slot)].admit(s.as_str(), || ()).is_none() {
                kv.value = Value::from(OTHER);
            }
        }
    }

    /// [`apply`](Self::apply) for an attribute list whose bounded entries are not known yet
    /// (attributes given through `SpanRecorder::start_with`): finds them by key.
    pub(crate) fn apply_by_key(&self, metric: &mut [KeyValue]) {
        let mut entries = [(0u8, 0u8); SLOTS];
        let mut n = 0;
        for (pos, kv) in metric.iter().enumerate() {
            if n == SLOTS {
                break;
            }
            let (Some(slot), Ok(pos)) = (slot_of(kv.key.as_str()), u8::try_from(pos)) else {
                continue;
            };
            // Always < SLOTS, so fits a u8.
            entries[n] = (pos, slot as u8);
            n += 1;
        }
        self.apply(metric, &entries[..n]);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use opentelemetry_semantic_conventions::attribute;
    use std::sync::Arc;

    use super::*;

    const SUMMARY: u8 = 3;

    fn summary(v: &str) -> Vec<KeyValue> {
        vec![KeyValue::new(attribute::DB_QUERY_SUMMARY, v.to_owned())]
    }

    fn bounded(d: &DistinctValues, v: &str) -> String {
        let mut m = summary(v);
        d.apply(&mut m, &[(0, SUMMARY)]);
        m[0].value.as_str().into_owned()
    }

    #[test]
    fn the_value_after_the_limit_is_other_and_admitted_values_stay() {
        let d = DistinctValues::new(3);
        for v in ["SELECT a", "SELECT b", "SELECT c"] {
            assert_eq!(bounded(&d, v), v);
        }
        assert_eq!(bounded(&d, "SELECT d"), OTHER, "the 4th distinct value");
        assert_eq!(bounded(&d, "SELECT e"), OTHER);
        for v in ["SELECT a", "SELECT b", "SELECT c", "SELECT a"] {
            assert_eq!(bounded(&d, v), v, "admitted values stay");
        }
        assert_eq!(d.admitted(), [0, 0, 0, 3]);
    }

    #[test]
    fn keys_are_bounded_separately() {
        let d = DistinctValues::new(1);
        let mut m = vec![
            KeyValue::new(attribute::DB_SYSTEM_NAME, "postgresql"),
            KeyValue::new(attribute::DB_NAMESPACE, "shop"),
            KeyValue::new(attribute::DB_QUERY_SUMMARY, "SELECT t"),
        ];
        d.apply_by_key(&mut m);
        assert_eq!(m[1].value.as_str(), "shop");
        assert_eq!(m[2].value.as_str(), "SELECT t");
        let mut m = vec![
            KeyValue::new(attribute::DB_SYSTEM_NAME, "postgresql"),
            KeyValue::new(attribute::DB_NAMESPACE, "shop"),
            KeyValue::new(attribute::DB_QUERY_SUMMARY, "SELECT u"),
        ];
        d.apply_by_key(&mut m);
        assert_eq!(m[0].value.as_str(), "postgresql", "not a bounded key");
        assert_eq!(m[1].value.as_str(), "shop", "admitted namespace stays");
        assert_eq!(
            m[2].value.as_str(),
            OTHER,
            "second summary over a limit of 1"
        );
        assert_eq!(d.admitted(), [1, 0, 0, 1]);
    }

    #[test]
    fn a_limit_of_zero_admits_nothing() {
        let d = DistinctValues::new(0);
        assert_eq!(bounded(&d, "SELECT a"), OTHER);
        assert_eq!(d.admitted(), [0; SLOTS]);
    }

    #[test]
    fn non_string_values_are_left_alone() {
        let d = DistinctValues::new(0);
        let mut m = vec![KeyValue::new(attribute::DB_QUERY_SUMMARY, 7_i64)];
        d.apply(&mut m, &[(0, SUMMARY)]);
        assert_eq!(m[0].value, Value::I64(7));
    }

    #[test]
    fn concurrent_admission_never_exceeds_the_limit() {
        const LIMIT: usize = 64;
        const THREADS: usize = 8;
        const PER_THREAD: usize = 500;
        let d = Arc::new(DistinctValues::new(LIMIT));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let d = Arc::clone(&d);
                std::thread::spawn(move || {
                    let mut kept = HashSet::new();
                    for i in 0..PER_THREAD {
                        // Overlapping ranges: threads race to admit the same values too.
                        let v = format!("SELECT t_{}", (i * 7 + t * 13) % 300);
                        let out = bounded(&d, &v);
                        if out != OTHER {
                            assert_eq!(out, v);
                            kept.insert(out);
                        }
                    }
                    kept
                })
            })
            .collect();
        let mut kept = HashSet::new();
        for t in threads {
            kept.extend(t.join().expect("thread"));
        }
        assert_eq!(kept.len(), LIMIT, "exactly the limit admitted: {kept:?}");
        assert_eq!(d.admitted()[usize::from(SUMMARY)], LIMIT);
        // Every value kept by some thread is still admitted for everyone.
        for v in &kept {
            assert_eq!(&bounded(&d, v), v);
        }
    }
}
