//! [`PreparedCommands`]: the handler's bounded cache of [`PreparedOperation`]s, one per
//! command on one target, so a command like a recent one starts its span from the checked,
//! admitted values instead of building them again (`otel_rpc::PreparedOperation`).
//!
//! A command's span and metric attributes that are not per execution are fixed by its
//! database, its command name and the collection it names (the summary, the span name and the
//! metric attributes follow from them), the server it is recorded against, and whether it
//! runs inside an operation span (another recorder). The first four, as the application's
//! code sent them, are the key; the server selects one of at most [`MAX_SERVERS`] variants
//! of an entry, so what a server says (a replica set's announced hosts) is never a key and
//! never adds an entry. Per execution only the span-only details are added (query text,
//! batch size, connection and session ids: see the handler).
//!
//! Bounded: at most [`MAX_PREPARED`] entries per handler, never evicted; a command whose
//! entry is not there when the cache is full, whose names fail their checks (not cached:
//! they take the checked path of every command, `SpanRecorder::start_db_with`), or whose
//! server is one too many for its entry is recorded through that path, the same attributes
//! at the per-command price.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use otel_rpc::PreparedOperation;

use crate::client::Server;
use crate::command::Known;

/// Entries per handler, at most.
pub(crate) const MAX_PREPARED: usize = 256;

/// Server variants per entry, at most (a replica set's members, typically 3).
pub(crate) const MAX_SERVERS: usize = 4;

/// One command target's prepared operation, and its command (so a cached command is not
/// looked up again).
pub(crate) struct Prepared {
    pub(crate) operation: PreparedOperation,
    pub(crate) known: Option<Known>,
}

/// What identifies one command on one target (borrowed from the started event).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct CommandTarget<'a> {
    /// Recorded by the handler's in-operation recorder (a traced operation's commands).
    pub(crate) in_operation: bool,
    pub(crate) database: &'a str,
    pub(crate) command_name: &'a str,
    /// The text where a command names its collection, if it is one (before any check:
    /// `command::collection_candidate`).
    pub(crate) collection: Option<&'a str>,
}

/// An entry: the owned key (to confirm a hash match) and its server variants.
struct Entry {
    in_operation: bool,
    database: Box<str>,
    command_name: Box<str>,
    collection: Option<Box<str>>,
    servers: Vec<(Option<Server>, Arc<Prepared>)>,
}

impl Entry {
    fn is(&self, key: &CommandTarget<'_>) -> bool {
        self.in_operation == key.in_operation
            && *self.database == *key.database
            && *self.command_name == *key.command_name
            && self.collection.as_deref() == key.collection
    }

    fn server(&self, server: Option<&Server>) -> Option<&Arc<Prepared>> {
        self.servers
            .iter()
            .find(|(s, _)| same_server(s.as_ref(), server))
            .map(|(_, p)| p)
    }
}

fn same_server(a: Option<&Server>, b: Option<&Server>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some((ha, pa)), Some((hb, pb))) => pa == pb && (Arc::ptr_eq(ha, hb) || ha == hb),
        _ => false,
    }
}

/// The handler's prepared commands.
pub(crate) struct PreparedCommands {
    /// By the key's hash (a hash shared by two keys: the second is not cached).
    entries: RwLock<HashMap<u64, Entry, BuildHasherDefault<IdentityHasher>>>,
    hasher: foldhash::fast::RandomState,
}

impl PreparedCommands {
    pub(crate) fn new() -> Self {
        PreparedCommands {
            entries: RwLock::new(HashMap::default()),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// The prepared operation of `key` recorded against `server`: the cached one, else the
    /// one `prepare` makes (cached when there is room; `prepare` returns `None` for a command
    /// that must not be cached). `None`: start it the checked way.
    pub(crate) fn get_or_prepare(
        &self,
        key: &CommandTarget<'_>,
        server: Option<&Server>,
        prepare: impl FnOnce() -> Option<Prepared>,
    ) -> Option<Arc<Prepared>> {
        let hash = self.hasher.hash_one(key);
        {
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            match entries.get(&hash) {
                Some(entry) if !entry.is(key) => return None,
                Some(entry) => {
                    if let Some(p) = entry.server(server) {
                        return Some(Arc::clone(p));
                    }
                    if entry.servers.len() >= MAX_SERVERS {
                        return None;
                    }
                }
                None if entries.len() >= MAX_PREPARED => return None,
                None => {}
            }
        }
        // Prepared outside the lock (it takes the recorder's own locks); a race prepares twice
        // and keeps the first.
        let prepared = Arc::new(prepare()?);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let full = entries.len() >= MAX_PREPARED;
        let entry = match entries.entry(hash) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(_) if full => return Some(prepared),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(Entry {
                in_operation: key.in_operation,
                database: key.database.into(),
                command_name: key.command_name.into(),
                collection: key.collection.map(Into::into),
                servers: Vec::new(),
            }),
        };
        if !entry.is(key) {
            return Some(prepared);
        }
        if let Some(p) = entry.server(server) {
            return Some(Arc::clone(p));
        }
        if entry.servers.len() < MAX_SERVERS {
            entry.servers.push((server.cloned(), Arc::clone(&prepared)));
        }
        Some(prepared)
    }

    /// Entries and server variants held (for the boundedness tests).
    #[cfg(feature = "testing")]
    pub(crate) fn len(&self) -> (usize, usize) {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let variants = entries.values().map(|e| e.servers.len()).sum();
        (entries.len(), variants)
    }
}

/// The keys are hashes already.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the map's keys are `u64`); anything else folds in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::SpanKind;
    use otel_rpc::{DbOperation, SpanRecorder};

    fn key<'a>(database: &'a str, collection: Option<&'a str>) -> CommandTarget<'a> {
        CommandTarget {
            in_operation: false,
            database,
            command_name: "find",
            collection,
        }
    }

    #[test]
    fn entries_are_reused_and_bounded() {
        let recorder = SpanRecorder::builder(SpanKind::Client, "test").build();
        let cache = PreparedCommands::new();
        let made = std::cell::Cell::new(0);
        let prepare = |c: &str| {
            made.set(made.get() + 1);
            Some(Prepared {
                operation: recorder
                    .prepare_db(&DbOperation::new("mongodb").collection(c.to_owned()), None),
                known: None,
            })
        };
        let a = cache.get_or_prepare(&key("shop", Some("a")), None, || prepare("a"));
        let again = cache.get_or_prepare(&key("shop", Some("a")), None, || prepare("a"));
        assert!(Arc::ptr_eq(&a.unwrap(), &again.unwrap()));
        for i in 1..2 * MAX_PREPARED {
            let c = format!("c{i}");
            let got = cache.get_or_prepare(&key("shop", Some(&c)), None, || prepare(&c));
            assert_eq!(got.is_some(), i < MAX_PREPARED, "{i}");
        }
        assert_eq!(cache.entries.read().unwrap().len(), MAX_PREPARED);
        // Full: a new key is not prepared (its command takes the checked path).
        let before = made.get();
        let c = "not-kept";
        assert!(
            cache
                .get_or_prepare(&key("shop", Some(c)), None, || prepare(c))
                .is_none()
        );
        assert_eq!(made.get(), before);
        assert_eq!(cache.entries.read().unwrap().len(), MAX_PREPARED);
    }

    #[test]
    fn servers_are_variants_of_an_entry_not_keys() {
        let recorder = SpanRecorder::builder(SpanKind::Client, "test").build();
        let cache = PreparedCommands::new();
        let prepare = || {
            Some(Prepared {
                operation: recorder.prepare_db(&DbOperation::new("mongodb"), None),
                known: None,
            })
        };
        for i in 0..3 * MAX_SERVERS {
            let server: Server = (Arc::from(format!("host{i}")), Some(27017));
            let _ = cache.get_or_prepare(&key("shop", Some("a")), Some(&server), prepare);
        }
        let entries = cache.entries.read().unwrap();
        assert_eq!(entries.len(), 1);
        assert!(entries.values().all(|e| e.servers.len() == MAX_SERVERS));
    }
}
