//! The command-span attributes of the MongoDB drivers' OpenTelemetry specification that the
//! command events carry: the connection (`network.transport`, the server's and the driver's
//! connection ids), the session (`db.mongodb.lsid`, `db.mongodb.txn_number`) and the cursor
//! (`db.mongodb.cursor_id`).
//!
//! The specification requires each "if available". They go on recording spans only, never on
//! the duration metric (a connection, session or cursor id is a series per value), and every
//! value is a number or a fixed-format string built here (no text from the server or the
//! command is copied).

use mongodb::bson::{Bson, Document, spec::BinarySubtype};
use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute;

use std::cell::RefCell;
use std::sync::Arc;

use crate::command::field;
use crate::event::StartedCommand;
use crate::intern;

/// `db.mongodb.server_connection_id`: the server's id of the connection (its `hello` reply's
/// `connectionId`).
pub(crate) const SERVER_CONNECTION_ID: &str = "db.mongodb.server_connection_id";
/// `db.mongodb.driver_connection_id`: the driver's id of the connection (per pool).
pub(crate) const DRIVER_CONNECTION_ID: &str = "db.mongodb.driver_connection_id";
/// `db.mongodb.lsid`: the logical session id, as a UUID string.
pub(crate) const LSID: &str = "db.mongodb.lsid";
/// `db.mongodb.txn_number`: the transaction number within the session.
pub(crate) const TXN_NUMBER: &str = "db.mongodb.txn_number";
/// `db.mongodb.cursor_id`: the cursor the command uses (`getMore`, `killCursors`) or the one
/// its reply opened (`find`, `aggregate`, `listCollections`, ...).
pub(crate) const CURSOR_ID: &str = "db.mongodb.cursor_id";

/// The attributes known when the command starts. Returns whether a cursor id was taken from
/// the command (then the reply's, `0` when the cursor is exhausted, is not recorded).
pub(crate) fn at_start(ev: &StartedCommand, add: &mut dyn FnMut(KeyValue)) -> bool {
    if let Some(transport) = ev.network_transport {
        add(KeyValue::new(attribute::NETWORK_TRANSPORT, transport));
    }
    if let Some(id) = ev.server_connection_id {
        add(KeyValue::new(SERVER_CONNECTION_ID, id));
    }
    add(KeyValue::new(
        DRIVER_CONNECTION_ID,
        i64::from(ev.key.connection_id),
    ));
    let (lsid, txn) = session_fields(&ev.command);
    if let Some(Bson::Document(lsid)) = lsid
        && let Some(uuid) = lsid_uuid(lsid)
    {
        add(KeyValue::new(LSID, StringValue::from(uuid)));
    }
    if let Some(txn) = txn.and_then(integer) {
        add(KeyValue::new(TXN_NUMBER, txn));
    }
    match command_cursor_id(&ev.command_name, &ev.command) {
        Some(id) => {
            add(KeyValue::new(CURSOR_ID, id));
            true
        }
        None => false,
    }
}

/// The command's `lsid` and `txnNumber` fields, in one pass over a command of a handful of
/// fields (by the index of a large one, see [`field`]).
fn session_fields(command: &Document) -> (Option<&Bson>, Option<&Bson>) {
    if command.len() > crate::command::SCAN_FIELDS {
        return (command.get("lsid"), command.get("txnNumber"));
    }
    let (mut lsid, mut txn) = (None, None);
    for (k, v) in command {
        match k.as_str() {
            "lsid" => lsid = Some(v),
            "txnNumber" => txn = Some(v),
            _ => {}
        }
    }
    (lsid, txn)
}

/// The cursor a command uses: `getMore`'s value, `killCursors`' only cursor.
fn command_cursor_id(command_name: &str, command: &Document) -> Option<i64> {
    match command_name {
        "getMore" => field(command, "getMore").and_then(integer),
        "killCursors" => match command.get_array("cursors").ok()?.as_slice() {
            [one] => integer(one),
            _ => None,
        },
        _ => None,
    }
    .filter(|id| *id != 0)
}

/// The cursor a reply opened (`cursor.id`; `0`: none, or exhausted).
pub(crate) fn reply_cursor_id(reply: &Document) -> Option<i64> {
    let Some(Bson::Document(cursor)) = field(reply, "cursor") else {
        return None;
    };
    let id = field(cursor, "id").and_then(integer)?;
    (id != 0).then_some(id)
}

fn integer(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int64(n) => Some(*n),
        Bson::Int32(n) => Some(i64::from(*n)),
        _ => None,
    }
}

/// The session id of an `lsid` document (`{id: UUID}`, binary subtype 4) as the canonical
/// lower-case hyphenated UUID (`8-4-4-4-12` hex digits); nothing for any other shape. Pooled
/// sessions come back command after command, so the text is formatted on the stack and shared
/// through [`intern::session`] (no allocation for a recent session).
fn lsid_uuid(lsid: &Document) -> Option<Arc<str>> {
    let Some(Bson::Binary(binary)) = lsid.get("id") else {
        return None;
    };
    if binary.subtype != BinarySubtype::Uuid {
        return None;
    }
    let bytes: &[u8; 16] = binary.bytes.as_slice().try_into().ok()?;
    // A pooled session comes back command after command: its text is formatted once.
    let last = LAST_SESSION
        .try_with(|last| {
            last.try_borrow().ok().and_then(|last| {
                last.as_ref()
                    .filter(|(b, _)| b == bytes)
                    .map(|(_, t)| Arc::clone(t))
            })
        })
        .ok()
        .flatten();
    if last.is_some() {
        return last;
    }
    let text = format_uuid(bytes)?;
    // (Not reentrant; gone while the thread's locals are destroyed: then not kept.)
    let _ = LAST_SESSION.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = Some((*bytes, Arc::clone(&text)));
        }
    });
    Some(text)
}

thread_local! {
    /// The session id this thread formatted last, and its text.
    static LAST_SESSION: RefCell<Option<([u8; 16], Arc<str>)>> = const { RefCell::new(None) };
}

/// The canonical text of a UUID's 16 bytes, shared through [`intern::session`].
fn format_uuid(bytes: &[u8; 16]) -> Option<Arc<str>> {
    let mut out = [0_u8; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[at] = b'-';
            at += 1;
        }
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 0xf)];
        at += 2;
    }
    // Hex digits and hyphens only: always UTF-8.
    std::str::from_utf8(&out).ok().map(intern::session)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{Binary, doc};

    fn uuid_binary(bytes: &[u8]) -> Binary {
        Binary {
            subtype: BinarySubtype::Uuid,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn lsid_is_a_canonical_uuid_or_nothing() {
        let bytes: Vec<u8> = (0u8..16).map(|b| b * 17).collect();
        let lsid = doc! { "id": uuid_binary(&bytes) };
        assert_eq!(
            lsid_uuid(&lsid).as_deref(),
            Some("00112233-4455-6677-8899-aabbccddeeff")
        );
        // A pooled session's next command: the same shared text.
        let again = lsid_uuid(&lsid).expect("uuid");
        assert!(Arc::ptr_eq(&again, &lsid_uuid(&lsid).expect("uuid")));
        let other: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            lsid_uuid(&doc! { "id": uuid_binary(&other) }).as_deref(),
            Some("00010203-0405-0607-0809-0a0b0c0d0e0f")
        );
        assert_eq!(lsid_uuid(&doc! { "id": uuid_binary(&bytes[..15]) }), None);
        let generic = Binary {
            subtype: BinarySubtype::Generic,
            bytes: bytes.clone(),
        };
        assert_eq!(lsid_uuid(&doc! { "id": generic }), None);
        assert_eq!(lsid_uuid(&doc! { "id": "s3cret" }), None);
        assert_eq!(lsid_uuid(&doc! {}), None);
    }

    #[test]
    fn cursor_ids_come_from_the_command_or_the_reply() {
        assert_eq!(
            command_cursor_id("getMore", &doc! { "getMore": 42_i64, "collection": "c" }),
            Some(42)
        );
        assert_eq!(
            command_cursor_id(
                "killCursors",
                &doc! { "killCursors": "c", "cursors": [7_i64] }
            ),
            Some(7)
        );
        assert_eq!(
            command_cursor_id(
                "killCursors",
                &doc! { "killCursors": "c", "cursors": [7_i64, 8_i64] }
            ),
            None
        );
        assert_eq!(command_cursor_id("find", &doc! { "find": "c" }), None);
        assert_eq!(
            reply_cursor_id(&doc! { "cursor": { "id": 9_i64, "firstBatch": [] }, "ok": 1 }),
            Some(9)
        );
        assert_eq!(
            reply_cursor_id(&doc! { "cursor": { "id": 0_i64, "firstBatch": [] } }),
            None
        );
        assert_eq!(reply_cursor_id(&doc! { "ok": 1 }), None);
        assert_eq!(reply_cursor_id(&doc! { "cursor": { "id": "x" } }), None);
    }
}
