//! Facts read from a command document: which command it is, its collection and batch size.
//!
//! A command's first key is its name and, for the commands that work on one collection, the
//! first value is that collection. For every other command the first value is something else
//! entirely (`eval` code, the user name of `usersInfo` / `dropUser`, `1`), so the collection is
//! taken only from commands of [`KNOWN_COMMANDS`] marked as targeting one, and only when the
//! value has the shape of a name ([`name_shape_ok`]).
//!
//! Command names are keys the application's code (through the driver) sends, never a server's
//! or a peer's text, but `run_command` takes any document, so they are still checked: a name
//! outside [`KNOWN_COMMANDS`] is recorded when it has the shape of a command name
//! ([`command_name_shape_ok`]: an identifier of at most [`MAX_COMMAND_NAME_LEN`] bytes), else
//! as [`otel_rpc::OTHER`] (`_OTHER`). On the duration metric the distinct values of
//! `db.operation.name` and `db.query.summary` are further bounded by the recorder (the first
//! `DurationMetric::max_distinct_values`, later new ones `_OTHER` on the metric only).

use mongodb::bson::{Bson, Document};

/// Where a command names its collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// It works on no single collection (or names it in a form we do not read, such as the
    /// `db.collection` namespace of `renameCollection`).
    None,
    /// The value of the command's first key (`{"find": "orders", ...}`).
    FirstValue,
    /// The `collection` field (`getMore`).
    CollectionField,
}

/// A command of [`KNOWN_COMMANDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Known {
    /// The name, as a static string (`db.operation.name`).
    pub(crate) name: &'static str,
    /// Where its collection is.
    pub(crate) target: Target,
}

use Target::{CollectionField as Field, FirstValue as Coll, None as NoColl};

/// The MongoDB commands recorded under their own name, sorted by name (byte order), each with
/// where it names its collection. Any other command is recorded as `_OTHER`, with no
/// collection.
pub(crate) const KNOWN_COMMANDS: &[(&str, Target)] = &[
    ("abortTransaction", NoColl),
    ("aggregate", Coll),
    ("authenticate", NoColl),
    ("buildInfo", NoColl),
    ("bulkWrite", NoColl),
    ("cloneCollectionAsCapped", Coll),
    ("collMod", Coll),
    ("collStats", Coll),
    ("commitTransaction", NoColl),
    ("compact", Coll),
    ("connectionStatus", NoColl),
    ("convertToCapped", Coll),
    ("count", Coll),
    ("create", Coll),
    ("createIndexes", Coll),
    ("createRole", NoColl),
    ("createSearchIndexes", Coll),
    ("createUser", NoColl),
    ("currentOp", NoColl),
    ("dataSize", NoColl),
    ("dbStats", NoColl),
    ("delete", Coll),
    ("distinct", Coll),
    ("drop", Coll),
    ("dropAllRolesFromDatabase", NoColl),
    ("dropAllUsersFromDatabase", NoColl),
    ("dropDatabase", NoColl),
    ("dropIndexes", Coll),
    ("dropRole", NoColl),
    ("dropSearchIndex", Coll),
    ("dropUser", NoColl),
    ("endSessions", NoColl),
    ("eval", NoColl),
    ("explain", NoColl),
    ("find", Coll),
    ("findAndModify", Coll),
    ("getCmdLineOpts", NoColl),
    ("getDefaultRWConcern", NoColl),
    ("getLog", NoColl),
    ("getMore", Field),
    ("getParameter", NoColl),
    ("getnonce", NoColl),
    ("grantPrivilegesToRole", NoColl),
    ("grantRolesToRole", NoColl),
    ("grantRolesToUser", NoColl),
    ("hello", NoColl),
    ("hostInfo", NoColl),
    ("insert", Coll),
    ("isMaster", NoColl),
    ("ismaster", NoColl),
    ("killAllSessions", NoColl),
    ("killCursors", Coll),
    ("killOp", NoColl),
    ("killSessions", NoColl),
    ("listCollections", NoColl),
    ("listCommands", NoColl),
    ("listDatabases", NoColl),
    ("listIndexes", Coll),
    ("listSearchIndexes", Coll),
    ("logout", NoColl),
    ("mapReduce", Coll),
    ("ping", NoColl),
    ("reIndex", Coll),
    ("refreshSessions", NoColl),
    ("renameCollection", NoColl),
    ("replSetGetStatus", NoColl),
    ("revokePrivilegesFromRole", NoColl),
    ("revokeRolesFromRole", NoColl),
    ("revokeRolesFromUser", NoColl),
    ("rolesInfo", NoColl),
    ("saslContinue", NoColl),
    ("saslStart", NoColl),
    ("serverStatus", NoColl),
    ("setParameter", NoColl),
    ("startSession", NoColl),
    ("update", Coll),
    ("updateRole", NoColl),
    ("updateSearchIndex", Coll),
    ("updateUser", NoColl),
    ("usersInfo", NoColl),
    ("validate", Coll),
    ("whatsmyuri", NoColl),
];

/// Longest command name recorded as such (the server's longest is about 40 bytes).
pub(crate) const MAX_COMMAND_NAME_LEN: usize = 64;

/// Whether `name` has the shape of a server command name: an ASCII identifier (letters,
/// digits, `_`, not starting with a digit) of at most [`MAX_COMMAND_NAME_LEN`] bytes. Text
/// with spaces, quotes, `-`, `.`, `$` or anything else is not a command name.
pub(crate) fn command_name_shape_ok(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_COMMAND_NAME_LEN
        && !bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// How a command's name is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommandName<'a> {
    /// One of [`KNOWN_COMMANDS`].
    Known(Known),
    /// Another name with the shape of a command name ([`command_name_shape_ok`]).
    Unlisted(&'a str),
    /// Anything else: `_OTHER`.
    Other,
}

impl<'a> CommandName<'a> {
    /// How the command named `name` is recorded.
    pub(crate) fn resolve(name: &'a str) -> Self {
        match lookup(name) {
            Some(known) => CommandName::Known(known),
            None if command_name_shape_ok(name) => CommandName::Unlisted(name),
            None => CommandName::Other,
        }
    }

    /// The known command, if it is one.
    pub(crate) fn known(self) -> Option<Known> {
        match self {
            CommandName::Known(k) => Some(k),
            _ => None,
        }
    }

    /// The name as recorded, `None` for `_OTHER`.
    pub(crate) fn recorded(self) -> Option<&'a str> {
        match self {
            CommandName::Known(k) => Some(k.name),
            CommandName::Unlisted(n) => Some(n),
            CommandName::Other => None,
        }
    }
}

/// The known command named exactly `name` (command names are case-sensitive).
pub(crate) fn lookup(name: &str) -> Option<Known> {
    KNOWN_COMMANDS
        .binary_search_by(|(known, _)| (*known).cmp(name))
        .ok()
        .map(|i| {
            let (name, target) = KNOWN_COMMANDS[i];
            Known { name, target }
        })
}

/// `db.collection.name`: the collection of a known command that targets one, when it has the
/// shape of a name.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn collection(known: Option<Known>, command: &Document) -> Option<&str> {
    collection_text(known, command).filter(|s| name_shape_ok(s))
}

/// The text where a known command names its collection, before the shape check. A command
/// with none (`{"aggregate": 1}`) works on its database.
pub(crate) fn collection_text(known: Option<Known>, command: &Document) -> Option<&str> {
    match collection_value(known, command) {
        Some(Bson::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// The text where the command names its collection if it is a command that names one, read
/// without looking the command up: `getMore`'s `collection` field, else the first value when
/// it is a string. For a known command with a collection this is [`collection_text`]; for
/// others it is whatever string comes first (a user name, code): such a command is never a
/// cache key (see `prepared`).
pub(crate) fn collection_candidate<'d>(
    command_name: &str,
    command: &'d Document,
) -> Option<&'d str> {
    let value = match command_name {
        "getMore" => field(command, "collection"),
        _ => command.iter().next().map(|(_, v)| v),
    };
    match value {
        Some(Bson::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn collection_value(known: Option<Known>, command: &Document) -> Option<&Bson> {
    match known?.target {
        Target::None => None,
        Target::FirstValue => command.iter().next().map(|(_, v)| v),
        Target::CollectionField => field(command, "collection"),
    }
}

/// `db.operation.batch.size`: the number of statements of an `update` or `delete` (each is an
/// operation of its own, with its own filter) and of the operations of a `bulkWrite`. An
/// `insert`'s documents are operands of one operation, not a batch (semantic conventions
/// 1.43), so it has none. The recorder keeps sizes of 2 and more.
pub(crate) fn batch_size(known: Option<Known>, command: &Document) -> Option<i64> {
    let field = match known?.name {
        "update" => "updates",
        "delete" => "deletes",
        "bulkWrite" => "ops",
        _ => return None,
    };
    let n = command.get_array(field).ok()?.len();
    i64::try_from(n).ok()
}

/// Documents up to this many fields are searched key by key (a few string compares) instead
/// of through their index (a SipHash of the key).
pub(crate) const SCAN_FIELDS: usize = 16;

/// The value of field `key` of `doc`: a command or reply has a handful of fields, so looked
/// for by comparing keys, cheaper than hashing the key for the document's index.
pub(crate) fn field<'d>(doc: &'d Document, key: &str) -> Option<&'d Bson> {
    if doc.len() > SCAN_FIELDS {
        return doc.get(key);
    }
    doc.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

/// Whether `s` may be recorded as a name (collection, database): the core's one rule.
pub(crate) use otel_rpc::name_shape_ok;

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    fn coll<'d>(name: &str, command: &'d Document) -> Option<&'d str> {
        collection(lookup(name), command)
    }

    #[test]
    fn the_table_is_sorted_and_unique() {
        for pair in KNOWN_COMMANDS.windows(2) {
            assert!(
                pair[0].0 < pair[1].0,
                "{:?} before {:?}",
                pair[0].0,
                pair[1].0
            );
        }
        for (name, target) in KNOWN_COMMANDS {
            assert_eq!(
                lookup(name),
                Some(Known {
                    name,
                    target: *target
                })
            );
        }
        assert_eq!(lookup("FIND"), None);
        assert_eq!(lookup("noSuchCommand"), None);
        assert_eq!(lookup(""), None);
    }

    #[test]
    fn only_collection_commands_name_a_collection() {
        assert_eq!(
            coll("find", &doc! { "find": "orders", "filter": {} }),
            Some("orders")
        );
        assert_eq!(
            coll(
                "getMore",
                &doc! { "getMore": 42_i64, "collection": "orders" }
            ),
            Some("orders")
        );
        assert_eq!(coll("ping", &doc! { "ping": 1 }), None);
        assert_eq!(
            coll("aggregate", &doc! { "aggregate": 1, "pipeline": [] }),
            None
        );
        assert_eq!(coll("find", &Document::new()), None);
        // First values that are not collections.
        assert_eq!(coll("eval", &doc! { "eval": "return 'secret'" }), None);
        assert_eq!(coll("usersInfo", &doc! { "usersInfo": "alice" }), None);
        assert_eq!(coll("dropUser", &doc! { "dropUser": "alice" }), None);
        assert_eq!(
            coll(
                "renameCollection",
                &doc! { "renameCollection": "db.a", "to": "db.b" }
            ),
            None
        );
        assert_eq!(coll("myCommand", &doc! { "myCommand": "value" }), None);
        // Value-shaped collection names are left out.
        for bad in ["has space", "quo'te", "dq\"", "semi;colon", "tab\t", ""] {
            assert_eq!(coll("find", &doc! { "find": bad }), None, "{bad:?}");
        }
        assert_eq!(coll("find", &doc! { "find": "x".repeat(256) }), None);
        assert_eq!(
            coll("find", &doc! { "find": "x".repeat(255) }).map(str::len),
            Some(255)
        );
    }

    #[test]
    fn fields_are_found_as_the_index_finds_them() {
        let small = doc! { "find": "c", "lsid": { "id": 1 }, "txnNumber": 7_i64 };
        let mut large = Document::new();
        for i in 0..2 * SCAN_FIELDS {
            large.insert(format!("k{i}"), i as i64);
        }
        for doc in [&small, &large] {
            for key in doc.keys() {
                assert_eq!(field(doc, key), doc.get(key), "{key}");
            }
            assert_eq!(field(doc, "absent"), None);
            assert_eq!(field(doc, ""), None);
        }
    }

    #[test]
    fn command_names_are_identifiers() {
        for ok in ["connPoolStats", "top", "_isSelf", "shardCollection", "a1"] {
            assert!(command_name_shape_ok(ok), "{ok}");
        }
        let long = "c".repeat(MAX_COMMAND_NAME_LEN + 1);
        for bad in [
            "", "1abc", "my cmd", "a-b", "a.b", "$cmd", "q'", "s3cret;x", &long,
        ] {
            assert!(!command_name_shape_ok(bad), "{bad:?}");
        }
        assert!(command_name_shape_ok(&long[1..]));
    }

    #[test]
    fn names_resolve_known_unlisted_or_other() {
        assert_eq!(CommandName::resolve("find").recorded(), Some("find"));
        assert!(CommandName::resolve("find").known().is_some());
        assert_eq!(
            CommandName::resolve("connPoolStats"),
            CommandName::Unlisted("connPoolStats")
        );
        assert_eq!(CommandName::resolve("my cmd"), CommandName::Other);
        assert_eq!(CommandName::resolve("my cmd").recorded(), None);
    }

    #[test]
    fn batches_are_statements_not_documents() {
        assert_eq!(
            batch_size(
                lookup("insert"),
                &doc! { "insert": "c", "documents": [{}, {}, {}] }
            ),
            None
        );
        assert_eq!(
            batch_size(lookup("update"), &doc! { "update": "c", "updates": [{}] }),
            Some(1)
        );
        assert_eq!(
            batch_size(
                lookup("delete"),
                &doc! { "delete": "c", "deletes": [{}, {}] }
            ),
            Some(2)
        );
        assert_eq!(
            batch_size(
                lookup("bulkWrite"),
                &doc! { "bulkWrite": 1, "ops": [{}, {}, {}] }
            ),
            Some(3)
        );
        assert_eq!(batch_size(lookup("find"), &doc! { "find": "c" }), None);
        assert_eq!(
            batch_size(None, &doc! { "update": "c", "updates": [{}, {}] }),
            None
        );
    }
}
