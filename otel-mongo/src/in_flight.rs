//! Commands started but not yet answered: a sharded, bounded map from [`CommandKey`] to the
//! open span.
//!
//! Memory is bounded twice: entries older than the reply timeout are ended (checked lazily
//! while inserting, at most once per quarter timeout, or on demand with [`InFlight::sweep`]),
//! and a full shard evicts its oldest entry (each of the shards holds `capacity / shards`).
//! Entries are sharded by connection id, so the commands of one connection (at most one
//! answered at a time, plus any abandoned ones) sit in one shard and are found under one lock
//! when the connection is checked back in. Spans are never ended while a lock is held: the
//! functions return what must be ended and the caller ends it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use otel_rpc::Recording;

use crate::event::CommandKey;

const MAX_SHARDS: usize = 16;

/// Initial room of each shard, so the first commands do not grow the table step by step.
const INITIAL_SHARD_CAPACITY: usize = 8;

/// A multiply-rotate hasher (as in rustc's `FxHasher`) for [`CommandKey`]s. Both parts are
/// driver-generated counters, never chosen by a remote party, so a keyed hash (SipHash) buys
/// nothing here and costs a few hundred instructions per insert and remove.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.add(u64::from(*b)));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.add(u64::from(n.cast_unsigned()));
    }

    fn finish(&self) -> u64 {
        // The product's best-mixed bits are the high ones; the table indexes by the low ones.
        self.0.rotate_left(26)
    }
}

type Entries = HashMap<CommandKey, Entry, BuildHasherDefault<KeyHasher>>;

/// One open command span.
pub(crate) struct Entry {
    pub(crate) recording: Recording,
    /// The span's start time (the started event), the base for `start + duration`.
    pub(crate) start_time: SystemTime,
    /// Monotonic time of insertion, for the timeout.
    pub(crate) inserted: Instant,
    /// Host and port of the connection, to match the pool's check-in events.
    pub(crate) server: Option<(Arc<str>, Option<u16>)>,
    /// The span has the cursor id the command named (`getMore`): the reply's is not recorded.
    pub(crate) cursor_from_command: bool,
}

/// Why an entry was dropped without a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LostReason {
    /// No reply within the timeout.
    TimedOut,
    /// The map was full and this was the oldest entry.
    Evicted,
}

struct Shard {
    entries: Entries,
}

pub(crate) struct InFlight {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    timeout: Duration,
    sweep_every: Duration,
    /// Origin of `next_sweep`.
    base: Instant,
    /// Nanoseconds after `base` when the next lazy sweep is due.
    next_sweep: AtomicU64,
}

impl InFlight {
    /// Room for about `capacity` entries (never more), expiring after `timeout`.
    pub(crate) fn new(capacity: usize, timeout: Duration) -> Self {
        let capacity = capacity.max(1);
        let shard_count = capacity.min(MAX_SHARDS);
        let sweep_every = timeout / 4;
        let per_shard = capacity / shard_count;
        let shards = (0..shard_count)
            .map(|_| {
                Mutex::new(Shard {
                    entries: Entries::with_capacity_and_hasher(
                        per_shard.min(INITIAL_SHARD_CAPACITY),
                        BuildHasherDefault::default(),
                    ),
                })
            })
            .collect();
        InFlight {
            shards,
            per_shard,
            timeout,
            sweep_every,
            base: Instant::now(),
            next_sweep: AtomicU64::new(nanos(sweep_every)),
        }
    }

    fn shard(&self, key: &CommandKey) -> MutexGuard<'_, Shard> {
        self.connection_shard(key.connection_id)
    }

    fn connection_shard(&self, connection_id: u32) -> MutexGuard<'_, Shard> {
        let index = connection_id as usize % self.shards.len();
        lock(&self.shards[index])
    }

    /// Stores `entry`; returns the entries that had to go (expired, evicted or displaced), for
    /// the caller to end and count.
    pub(crate) fn insert(&self, key: CommandKey, entry: Entry) -> Vec<(Entry, LostReason)> {
        let now = entry.inserted;
        let mut lost = if self.claim_sweep(now) {
            self.expire_all(now)
        } else {
            Vec::new()
        };
        {
            let mut shard = self.shard(&key);
            if shard.entries.len() >= self.per_shard && !shard.entries.contains_key(&key) {
                let oldest = shard
                    .entries
                    .iter()
                    .min_by_key(|(_, e)| e.inserted)
                    .map(|(k, _)| *k);
                if let Some(e) = oldest.and_then(|k| shard.entries.remove(&k)) {
                    lost.push((e, LostReason::Evicted));
                }
            }
            if let Some(displaced) = shard.entries.insert(key, entry) {
                lost.push((displaced, LostReason::Evicted));
            }
        }
        lost
    }

    /// Takes the entry for `key`, if it is still there.
    pub(crate) fn remove(&self, key: &CommandKey) -> Option<Entry> {
        self.shard(key).entries.remove(key)
    }

    /// Takes every entry of connection `connection_id` whose server `is_server` accepts: the
    /// connection went back to its pool, so none of them will get a reply.
    pub(crate) fn take_connection(
        &self,
        connection_id: u32,
        is_server: impl Fn(Option<&(Arc<str>, Option<u16>)>) -> bool,
    ) -> Vec<Entry> {
        let mut shard = self.connection_shard(connection_id);
        if shard.entries.is_empty() {
            return Vec::new();
        }
        shard
            .entries
            .extract_if(|k, e| k.connection_id == connection_id && is_server(e.server.as_ref()))
            .map(|(_, e)| e)
            .collect()
    }

    /// Takes every entry older than the timeout.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn sweep(&self, now: Instant) -> Vec<(Entry, LostReason)> {
        self.next_sweep.store(
            nanos(now.saturating_duration_since(self.base) + self.sweep_every),
            Ordering::Relaxed,
        );
        self.expire_all(now)
    }

    /// `true` for the one caller that should run the lazy sweep due at `now`.
    fn claim_sweep(&self, now: Instant) -> bool {
        let now_nanos = nanos(now.saturating_duration_since(self.base));
        let due = self.next_sweep.load(Ordering::Relaxed);
        now_nanos >= due
            && self
                .next_sweep
                .compare_exchange(
                    due,
                    now_nanos.saturating_add(nanos(self.sweep_every)),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }

    /// Expired entries of every shard, one shard lock at a time.
    fn expire_all(&self, now: Instant) -> Vec<(Entry, LostReason)> {
        let mut lost = Vec::new();
        for shard in self.shards.iter() {
            expire(&mut lock(shard).entries, now, self.timeout, &mut lost);
        }
        lost
    }

    /// Entries currently held.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn expire(
    entries: &mut Entries,
    now: Instant,
    timeout: Duration,
    out: &mut Vec<(Entry, LostReason)>,
) {
    let expired = entries.extract_if(|_, e| now.saturating_duration_since(e.inserted) >= timeout);
    out.extend(expired.map(|(_, e)| (e, LostReason::TimedOut)));
}

/// A poisoned shard still holds consistent data (nothing panics while holding it): recover it
/// and count the event.
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|poisoned: PoisonError<_>| {
        otel_rpc::count_swallowed_error();
        poisoned.into_inner()
    })
}
