//! `db.query.text` for MongoDB commands: which commands are never recorded, and the sanitized
//! rendering of the others.
//!
//! Sanitized text keeps the document's *shape* and drops every value:
//!
//! * the command name is kept when it is a known command or has the shape of one (an
//!   identifier: letters, digits, `_`, at most 64 bytes), else written `_OTHER`; the
//!   collection of a command that targets one (`{"find": "orders", ...}`, the `collection`
//!   field of `getMore`) is kept when it has the shape of a name; any other first value
//!   (`eval` code, `usersInfo` user names) is a value like the others;
//! * keys are kept when they have the shape of a name, else written `"?"`;
//! * every other value becomes `?`, nested documents keep their keys
//!   (`"filter": {"status": ?, "qty": {"$gt": ?}}`);
//! * arrays keep one rendering per run of identically shaped elements (`"$in": [?]`,
//!   `"updates": [{"q": {"_id": ?}, "u": {"$set": {"status": ?}}}]`), and insert's
//!   `documents` is always `[?]`;
//! * the driver's envelope (`$db`, `lsid`, `$clusterTime`, `txnNumber`, `autocommit`,
//!   `startTransaction`, `$readPreference`) is left out.
//!
//! Rendering stops as soon as the cap is reached, so a 16 MB insert costs no more than the cap.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use mongodb::bson::{Bson, Document};
use otel_rpc::QueryTextMode;
use otel_rpc::text::TRUNCATION_MARKER;

use otel_rpc::OTHER;

use crate::command::{self, Target};
use crate::intern;

/// Commands whose documents carry credentials: recorded with no text at all, in every mode.
/// Compared case-insensitively.
pub const SENSITIVE_COMMANDS: &[&str] = &[
    "authenticate",
    "saslstart",
    "saslcontinue",
    "getnonce",
    "createuser",
    "updateuser",
    "copydbgetnonce",
    "copydbsaslstart",
    "copydb",
];

/// Handshake commands that become sensitive when they carry `speculativeAuthenticate`.
const HELLO_COMMANDS: &[&str] = &["hello", "ismaster"];

/// Top-level fields the driver adds to every command; they describe the session, not the query.
const ENVELOPE_FIELDS: &[&str] = &[
    "$db",
    "lsid",
    "$clusterTime",
    "txnNumber",
    "autocommit",
    "startTransaction",
    "$readPreference",
];

/// `true` when the command must be recorded without any body: authentication commands, and
/// `hello` / `isMaster` carrying `speculativeAuthenticate`.
///
/// ```
/// use mongodb::bson::doc;
/// use otel_mongo::sanitize::is_sensitive_command;
///
/// assert!(is_sensitive_command("saslStart", &doc! { "saslStart": 1, "payload": "..." }));
/// assert!(is_sensitive_command("hello", &doc! { "hello": 1, "speculativeAuthenticate": {} }));
/// assert!(!is_sensitive_command("hello", &doc! { "hello": 1 }));
/// ```
pub fn is_sensitive_command(command_name: &str, command: &Document) -> bool {
    let is = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(command_name));
    is(SENSITIVE_COMMANDS)
        || (is(HELLO_COMMANDS) && command.contains_key("speculativeAuthenticate"))
}

/// The `db.query.text` for a command in `mode`, at most `max_len` bytes; `None` for sensitive
/// commands, empty documents and [`QueryTextMode::Off`].
///
/// ```
/// use mongodb::bson::doc;
/// use otel_mongo::sanitize::query_text;
/// use otel_rpc::QueryTextMode;
///
/// let cmd = doc! { "find": "orders", "filter": { "user": "alice", "qty": { "$gt": 5 } }, "$db": "shop" };
/// assert_eq!(
///     query_text("find", &cmd, QueryTextMode::Sanitized, 2048).as_deref(),
///     Some(r#"{"find": "orders", "filter": {"user": ?, "qty": {"$gt": ?}}}"#),
/// );
/// ```
#[cfg(any(test, feature = "testing"))]
pub fn query_text(
    command_name: &str,
    command: &Document,
    mode: QueryTextMode,
    max_len: usize,
) -> Option<String> {
    let known = command::lookup(command_name);
    let collection = command::collection(known, command);
    let resolved = Resolved {
        name: command_name,
        known,
        collection,
    };
    rendered(&resolved, command, mode, max_len, |s: &str| s.to_owned())
}

/// A command as the handler resolved it: its name, the known command it is, its collection
/// ([`command::collection`]), so the rendering does not look them up again.
pub(crate) struct Resolved<'a> {
    pub(crate) name: &'a str,
    pub(crate) known: Option<command::Known>,
    pub(crate) collection: Option<&'a str>,
}

/// [`query_text`] of a command already resolved, as a shared value: a text equal to a recent
/// one of this thread (the same query shape) is the same `Arc` ([`intern::query_text`]), not
/// a new allocation.
pub(crate) fn shared_query_text(
    resolved: &Resolved<'_>,
    command: &Document,
    mode: QueryTextMode,
    max_len: usize,
) -> Option<Arc<str>> {
    rendered(resolved, command, mode, max_len, intern::query_text)
}

/// Renders the text into this thread's scratch buffer and hands it to `finish` (which makes
/// the one copy that outlives the call).
fn rendered<T>(
    resolved: &Resolved<'_>,
    command: &Document,
    mode: QueryTextMode,
    max_len: usize,
    finish: impl FnOnce(&str) -> T,
) -> Option<T> {
    if command.is_empty() || is_sensitive_command(resolved.name, command) {
        return None;
    }
    if mode == QueryTextMode::Off {
        return None;
    }
    // (After the thread's locals are gone, a fresh buffer.)
    let buffer = SCRATCH.try_with(Cell::take).unwrap_or_default();
    let mut out = Bounded::new(max_len, buffer);
    // An `Err` only means the cap was reached; what was written so far is kept.
    let _ = match mode {
        QueryTextMode::Raw => write!(out, "{command}"),
        _ => render_command(&mut out, resolved, command),
    };
    out.finish(max_len);
    // One exactly sized copy: no growth reallocations, no shrink when it becomes a value.
    let text = finish(out.out.as_str());
    let mut scratch = out.out;
    if scratch.capacity() <= MAX_SCRATCH {
        scratch.clear();
        let _ = SCRATCH.try_with(|cell| cell.set(scratch));
    }
    Some(text)
}

/// Largest rendering buffer kept per thread between commands.
const MAX_SCRATCH: usize = 4096;

thread_local! {
    /// The rendering buffer, reused by the commands of this thread.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// A string sink that refuses to grow past `limit` bytes (stopping the renderer early).
struct Bounded {
    out: String,
    limit: usize,
    overflowed: bool,
}

impl Bounded {
    fn new(max_len: usize, mut buffer: String) -> Self {
        // One byte more than allowed, so `truncate` can tell that text was cut.
        let limit = max_len.saturating_add(1);
        buffer.clear();
        buffer.reserve(limit.min(256));
        Bounded {
            out: buffer,
            limit,
            overflowed: false,
        }
    }

    fn room(&self) -> usize {
        self.limit.saturating_sub(self.out.len())
    }

    /// The text, cut to `max_len` with the truncation marker when anything was left out.
    fn finish(&mut self, max_len: usize) {
        if !self.overflowed && self.out.len() <= max_len {
            return;
        }
        let mut cut = max_len
            .saturating_sub(TRUNCATION_MARKER.len())
            .min(self.out.len());
        while cut > 0 && !self.out.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.truncate(cut);
        self.out.push_str(TRUNCATION_MARKER);
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.room();
        if s.len() <= room {
            self.out.push_str(s);
            return Ok(());
        }
        let mut cut = room;
        while cut > 0 && !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.push_str(&s[..cut]);
        self.overflowed = true;
        Err(fmt::Error)
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        if c.len_utf8() <= self.room() {
            self.out.push(c);
            Ok(())
        } else {
            self.overflowed = true;
            Err(fmt::Error)
        }
    }
}

fn render_command(w: &mut Bounded, resolved: &Resolved<'_>, command: &Document) -> fmt::Result {
    let Resolved {
        name: command_name,
        known,
        collection,
    } = *resolved;
    let target = known.map(|k| k.target);
    let is_insert = known.is_some_and(|k| k.name == "insert");
    w.write_char('{')?;
    let mut first = true;
    for (i, (key, value)) in command.iter().enumerate() {
        if i > 0 && ENVELOPE_FIELDS.contains(&key.as_str()) {
            continue;
        }
        if !first {
            w.write_str(", ")?;
        }
        first = false;
        if i == 0 {
            // The command name: known, else identifier-shaped, else `_OTHER`.
            let name = match known {
                Some(k) => k.name,
                None if command::command_name_shape_ok(command_name) => command_name,
                None => OTHER,
            };
            write_quoted(w, name)?;
            w.write_str(": ")?;
        } else {
            write_key(w, key)?;
        }
        match (value, collection) {
            (Bson::String(_), Some(c)) if i == 0 && target == Some(Target::FirstValue) => {
                write_quoted(w, c)?;
            }
            (Bson::String(_), Some(c))
                if i > 0 && target == Some(Target::CollectionField) && key == "collection" =>
            {
                write_quoted(w, c)?;
            }
            (Bson::Array(_), _) if is_insert && key == "documents" => w.write_str("[?]")?,
            (other, _) => write_value(w, other)?,
        }
    }
    w.write_char('}')
}

fn write_value(w: &mut Bounded, value: &Bson) -> fmt::Result {
    match value {
        Bson::Document(doc) => write_document(w, doc),
        Bson::Array(items) => write_array(w, items),
        _ => w.write_char('?'),
    }
}

fn write_document(w: &mut Bounded, doc: &Document) -> fmt::Result {
    w.write_char('{')?;
    for (i, (key, value)) in doc.iter().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        write_key(w, key)?;
        write_value(w, value)?;
    }
    w.write_char('}')
}

/// Elements rendered one by one; a run of elements with the same rendering is written once.
fn write_array(w: &mut Bounded, items: &[Bson]) -> fmt::Result {
    w.write_char('[')?;
    let mut previous: Option<Cow<'static, str>> = None;
    for item in items {
        let rendered = match item {
            Bson::Document(_) | Bson::Array(_) => {
                let mut element = Bounded {
                    out: String::new(),
                    limit: w.room(),
                    overflowed: false,
                };
                let complete = write_value(&mut element, item).is_ok();
                if !complete {
                    // Whatever fits is written, then the outer sink overflows.
                    if previous.is_some() {
                        w.write_str(", ")?;
                    }
                    w.write_str(&element.out)?;
                    w.overflowed = true;
                    return Err(fmt::Error);
                }
                Cow::Owned(element.out)
            }
            _ => Cow::Borrowed("?"),
        };
        if previous.as_deref() == Some(&*rendered) {
            continue;
        }
        if previous.is_some() {
            w.write_str(", ")?;
        }
        w.write_str(&rendered)?;
        previous = Some(rendered);
    }
    w.write_char(']')
}

/// A key, when it has the shape of a name (a key can be a value: `{"$set": {"a b c": 1}}`).
fn write_key(w: &mut Bounded, key: &str) -> fmt::Result {
    if command::name_shape_ok(key) {
        write_quoted(w, key)?;
    } else {
        w.write_str("\"?\"")?;
    }
    w.write_str(": ")
}

fn write_quoted(w: &mut Bounded, s: &str) -> fmt::Result {
    w.write_char('"')?;
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        // Printable ASCII, nothing to escape: one copy.
        w.write_str(s)?;
        return w.write_char('"');
    }
    for c in s.chars() {
        match c {
            '"' => w.write_str("\\\"")?,
            '\\' => w.write_str("\\\\")?,
            c if c.is_control() => write!(w, "\\u{:04x}", u32::from(c))?,
            c => w.write_char(c)?,
        }
    }
    w.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{doc, oid::ObjectId};

    fn sanitized(name: &str, cmd: &Document) -> String {
        query_text(name, cmd, QueryTextMode::Sanitized, 4096).expect("text")
    }

    /// What the handler records: the shared text of a command it resolved.
    fn shared(cmd: &Document) -> Option<Arc<str>> {
        let name = cmd.keys().next().map_or("", String::as_str);
        let known = command::lookup(name);
        let resolved = Resolved {
            name,
            known,
            collection: command::collection(known, cmd),
        };
        shared_query_text(&resolved, cmd, QueryTextMode::Sanitized, 4096)
    }

    #[test]
    fn shared_texts_are_rendered_every_time_and_only_the_copy_is_reused() {
        let benign = doc! { "find": "orders", "filter": { "_id": 1_i64 }, "$db": "shop" };
        let again = doc! { "find": "orders", "filter": { "_id": 2_i64 }, "$db": "shop" };
        let first = shared(&benign).expect("text");
        assert_eq!(&*first, r#"{"find": "orders", "filter": {"_id": ?}}"#);
        assert_eq!(first.as_ref(), sanitized("find", &benign));
        // Same shape, other values: the same text, shared.
        assert!(Arc::ptr_eq(&first, &shared(&again).expect("text")));
        // After the benign ones, hostile commands of nearly the same shape are still refused
        // their secret: a value-shaped key, a value-shaped collection, a sensitive command.
        let hostile = [
            doc! { "find": "orders", "filter": { "_id s3cret": 1_i64 } },
            doc! { "find": "orders s3cret", "filter": { "_id": 1_i64 } },
            doc! { "find": "orders", "filter": { "_id": "s3cret" } },
        ];
        for cmd in &hostile {
            let text = shared(cmd).expect("text");
            assert!(!text.contains("s3cret"), "{text}");
            assert_eq!(
                text.as_ref(),
                sanitized(cmd.keys().next().expect("name"), cmd)
            );
        }
        let sasl = doc! { "saslStart": 1, "payload": "s3cret" };
        assert_eq!(shared(&sasl), None);
    }

    #[test]
    fn sasl_start_is_never_recorded() {
        let cmd = doc! {
            "saslStart": 1,
            "mechanism": "SCRAM-SHA-256",
            "payload": "n,,n=admin,r=c2VjcmV0LXBhc3N3b3Jk",
            "$db": "admin",
        };
        assert!(is_sensitive_command("saslStart", &cmd));
        for mode in [
            QueryTextMode::Sanitized,
            QueryTextMode::Raw,
            QueryTextMode::Off,
        ] {
            assert_eq!(query_text("saslStart", &cmd, mode, 4096), None, "{mode:?}");
        }
        for name in [
            "saslContinue",
            "authenticate",
            "getnonce",
            "createUser",
            "updateUser",
            "copydbgetnonce",
            "copydbsaslstart",
            "copydb",
        ] {
            let cmd = doc! { name: "x", "pwd": "hunter2" };
            assert_eq!(
                query_text(name, &cmd, QueryTextMode::Raw, 4096),
                None,
                "{name}"
            );
        }
    }

    #[test]
    fn hello_with_speculative_authentication_is_never_recorded() {
        let cmd = doc! {
            "hello": 1,
            "client": { "driver": { "name": "mongo-rust-driver" } },
            "speculativeAuthenticate": { "saslStart": 1, "mechanism": "SCRAM-SHA-256", "payload": "secret-payload", "db": "admin" },
        };
        assert!(is_sensitive_command("hello", &cmd));
        assert!(is_sensitive_command("isMaster", &cmd));
        assert_eq!(query_text("hello", &cmd, QueryTextMode::Raw, 4096), None);
        let plain = doc! { "hello": 1, "client": { "driver": { "name": "x" } } };
        assert!(!is_sensitive_command("hello", &plain));
        assert_eq!(
            sanitized("hello", &plain),
            r#"{"hello": ?, "client": {"driver": {"name": ?}}}"#
        );
    }

    #[test]
    fn values_become_placeholders_and_shape_stays() {
        let cmd = doc! {
            "find": "orders",
            "filter": { "status": "paid", "total": { "$gte": 100 }, "tags": { "$in": ["a", "b", "c"] } },
            "sort": { "created": -1 },
            "limit": 10,
            "batchSize": 2,
            "$db": "shop",
            "lsid": { "id": ObjectId::new() },
        };
        assert_eq!(
            sanitized("find", &cmd),
            r#"{"find": "orders", "filter": {"status": ?, "total": {"$gte": ?}, "tags": {"$in": [?]}}, "sort": {"created": ?}, "limit": ?, "batchSize": ?}"#
        );
    }

    #[test]
    fn insert_documents_collapse_and_updates_keep_one_shape_per_run() {
        let insert = doc! {
            "insert": "users",
            "ordered": true,
            "documents": [{ "_id": 1, "password": "hunter2" }, { "_id": 2, "password": "swordfish" }],
        };
        assert_eq!(
            sanitized("insert", &insert),
            r#"{"insert": "users", "ordered": ?, "documents": [?]}"#
        );
        let update = doc! {
            "update": "users",
            "updates": [
                { "q": { "_id": 1 }, "u": { "$set": { "name": "a" } } },
                { "q": { "_id": 2 }, "u": { "$set": { "name": "b" } } },
                { "q": { "email": "x@y" }, "u": { "$inc": { "n": 1 } }, "upsert": true },
            ],
        };
        assert_eq!(
            sanitized("update", &update),
            r#"{"update": "users", "updates": [{"q": {"_id": ?}, "u": {"$set": {"name": ?}}}, {"q": {"email": ?}, "u": {"$inc": {"n": ?}}, "upsert": ?}]}"#
        );
    }

    #[test]
    fn get_more_keeps_its_collection_and_aggregate_its_stages() {
        let get_more = doc! { "getMore": 1234567_i64, "collection": "orders", "batchSize": 2 };
        assert_eq!(
            sanitized("getMore", &get_more),
            r#"{"getMore": ?, "collection": "orders", "batchSize": ?}"#
        );
        let aggregate = doc! {
            "aggregate": "orders",
            "pipeline": [{ "$match": { "user": "bob" } }, { "$group": { "_id": "$user", "n": { "$sum": 1 } } }],
            "cursor": {},
        };
        assert_eq!(
            sanitized("aggregate", &aggregate),
            r#"{"aggregate": "orders", "pipeline": [{"$match": {"user": ?}}, {"$group": {"_id": ?, "n": {"$sum": ?}}}], "cursor": {}}"#
        );
        // A non-string first value (database-level aggregate, ping) is a placeholder too.
        assert_eq!(sanitized("ping", &doc! { "ping": 1 }), r#"{"ping": ?}"#);
    }

    #[test]
    fn keys_are_escaped_and_value_shaped_names_are_values() {
        let cmd = doc! { "find": "we\"ird", "filter": { "a\\b": 1, "x y": 2, "q'": 3 } };
        assert_eq!(
            sanitized("find", &cmd),
            r#"{"find": ?, "filter": {"a\\b": ?, "?": ?, "?": ?}}"#
        );
    }

    #[test]
    fn first_values_that_are_not_collections_are_values() {
        let secret = "s3cret-Tr0ub4dor";
        let cases = [
            (
                "eval",
                doc! { "eval": format!("function() {{ return '{secret}' }}"), "args": [] },
            ),
            ("usersInfo", doc! { "usersInfo": secret }),
            ("dropUser", doc! { "dropUser": secret }),
            (
                "grantRolesToUser",
                doc! { "grantRolesToUser": secret, "roles": ["read"] },
            ),
            (
                "renameCollection",
                doc! { "renameCollection": secret, "to": "db.b" },
            ),
            (secret, doc! { secret: secret }),
            ("myCommand", doc! { "myCommand": secret }),
        ];
        for (name, cmd) in &cases {
            let text = sanitized(name, cmd);
            assert!(!text.contains(secret), "{name}: {text}");
            assert!(text.contains(": ?"), "{name}: {text}");
        }
        assert_eq!(
            sanitized("usersInfo", &doc! { "usersInfo": secret }),
            r#"{"usersInfo": ?}"#
        );
        assert_eq!(sanitized(secret, &doc! { secret: 1 }), r#"{"_OTHER": ?}"#);
        let long = "c".repeat(300);
        assert_eq!(
            sanitized("find", &doc! { "find": long.as_str() }),
            r#"{"find": ?}"#
        );
        assert_eq!(
            sanitized("getMore", &doc! { "getMore": 1_i64, "collection": "a b" }),
            r#"{"getMore": ?, "collection": ?}"#
        );
    }

    #[test]
    fn text_is_capped_without_rendering_everything() {
        let many: Vec<Bson> = (0..100_000)
            .map(|i| Bson::Document(doc! { format!("field{i}"): i }))
            .collect();
        let cmd = doc! { "aggregate": "big", "pipeline": many };
        for max in [0, 1, 5, 40, 100, 2048] {
            let text = query_text("aggregate", &cmd, QueryTextMode::Sanitized, max).expect("text");
            assert!(text.len() <= max.max(3), "{max}: {} bytes", text.len());
            assert!(text.ends_with('…'), "{max}: {text}");
        }
        let raw = query_text("aggregate", &cmd, QueryTextMode::Raw, 100).expect("text");
        assert!(raw.len() <= 100 && raw.ends_with('…'), "{raw}");
    }

    #[test]
    fn raw_mode_keeps_values_and_off_mode_records_nothing() {
        let cmd = doc! { "find": "orders", "filter": { "user": "alice" } };
        let raw = query_text("find", &cmd, QueryTextMode::Raw, 4096).expect("text");
        assert!(raw.contains("alice"), "{raw}");
        assert_eq!(query_text("find", &cmd, QueryTextMode::Off, 4096), None);
        assert_eq!(
            query_text("find", &Document::new(), QueryTextMode::Raw, 4096),
            None
        );
    }
}
