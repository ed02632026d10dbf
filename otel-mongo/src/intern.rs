//! Attribute values reused from one command to the next, so the common case allocates nothing.
//!
//! Command names are static strings (see `command::KNOWN_COMMANDS`). Database, collection,
//! summary and server names, session ids and sanitized query texts are reference-counted
//! (`Arc<str>`, shared by the span and the metric copies) and the last few of each kind are
//! kept per thread: a command on the same collection (the same session, the same query shape)
//! as a recent one gets the same `Arc` instead of a new allocation (and its release when the
//! exported span is dropped). Every value is checked or built by the caller each time before
//! it is looked up here (a name's shape, the sanitizer's rendering): the cache only saves the
//! allocation, it never decides what is recorded. Memory is
//! bounded: [`SLOTS`] values of at most [`MAX_CACHED_LEN`] bytes per kind and thread; longer
//! values are allocated each time.

use std::cell::RefCell;
use std::sync::Arc;

/// Values kept per kind and thread.
const SLOTS: usize = 8;

/// Longer values are never kept.
const MAX_CACHED_LEN: usize = 128;

/// The kinds of values kept.
#[derive(Clone, Copy)]
enum Kind {
    Database = 0,
    Collection = 1,
    Summary = 2,
    Server = 3,
    Session = 4,
    QueryText = 5,
}

const KINDS: usize = 6;

/// The most recently used values of one kind, replaced round robin.
struct Recent {
    slots: [Option<Arc<str>>; SLOTS],
    next: usize,
}

impl Recent {
    const fn new() -> Self {
        Recent {
            slots: [const { None }; SLOTS],
            next: 0,
        }
    }

    /// The kept value equal to the concatenation of `parts`, or a new one (kept when short).
    fn get(&mut self, parts: &[&str], len: usize) -> Arc<str> {
        let found = self
            .slots
            .iter()
            .flatten()
            .find(|v| v.len() == len && is_concatenation(v, parts));
        if let Some(v) = found {
            return Arc::clone(v);
        }
        let value = concatenate(parts, len);
        if len <= MAX_CACHED_LEN {
            self.slots[self.next] = Some(Arc::clone(&value));
            self.next = (self.next + 1) % SLOTS;
        }
        value
    }
}

thread_local! {
    static RECENT: RefCell<[Recent; KINDS]> = const { RefCell::new([const { Recent::new() }; KINDS]) };
}

fn is_concatenation(value: &str, parts: &[&str]) -> bool {
    let mut rest = value;
    for part in parts {
        match rest.strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

fn concatenate(parts: &[&str], len: usize) -> Arc<str> {
    match parts {
        [one] => Arc::from(*one),
        _ => {
            let mut s = String::with_capacity(len);
            parts.iter().for_each(|p| s.push_str(p));
            Arc::from(s)
        }
    }
}

fn shared(kind: Kind, parts: &[&str]) -> Arc<str> {
    let len = parts.iter().map(|p| p.len()).sum();
    // Not reentrant, and gone while the thread's locals are destroyed: then a new value.
    RECENT
        .try_with(|recent| {
            recent
                .try_borrow_mut()
                .ok()
                .map(|mut recent| recent[kind as usize].get(parts, len))
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| concatenate(parts, len))
}

/// `db.namespace`.
pub(crate) fn database(name: &str) -> Arc<str> {
    shared(Kind::Database, &[name])
}

/// `db.collection.name`.
pub(crate) fn collection(name: &str) -> Arc<str> {
    shared(Kind::Collection, &[name])
}

/// `server.address`.
pub(crate) fn server(host: &str) -> Arc<str> {
    shared(Kind::Server, &[host])
}

/// `db.mongodb.lsid` (a UUID's text).
pub(crate) fn session(uuid: &str) -> Arc<str> {
    shared(Kind::Session, &[uuid])
}

/// `db.query.text`, as the sanitizer rendered it.
pub(crate) fn query_text(text: &str) -> Arc<str> {
    shared(Kind::QueryText, &[text])
}

/// `db.query.summary`: `{command} {collection}`, or the command name alone.
pub(crate) fn summary(command_name: &str, collection: Option<&str>) -> Arc<str> {
    match collection {
        Some(c) => shared(Kind::Summary, &[command_name, " ", c]),
        None => shared(Kind::Summary, &[command_name]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_values_are_shared_and_equal_to_fresh_ones() {
        let a = collection("orders");
        let b = collection("orders");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "orders");
        let s = summary("find", Some("orders"));
        assert_eq!(&*s, "find orders");
        assert!(Arc::ptr_eq(&s, &summary("find", Some("orders"))));
        assert_eq!(&*summary("find", Some("order")), "find order");
        assert_eq!(&*summary("find", None), "find");
        assert_eq!(&*summary("fin", Some("d orders")), "fin d orders");
    }

    #[test]
    fn long_values_are_not_kept_and_slots_are_bounded() {
        let long = "c".repeat(MAX_CACHED_LEN + 1);
        let a = collection(&long);
        assert!(!Arc::ptr_eq(&a, &collection(&long)));
        assert_eq!(&*a, long);
        for i in 0..3 * SLOTS {
            assert_eq!(&*database(&format!("db{i}")), format!("db{i}"));
        }
        RECENT.with(|r| {
            let r = r.borrow();
            assert!(r[Kind::Database as usize].slots.iter().flatten().count() <= SLOTS);
        });
    }
}
