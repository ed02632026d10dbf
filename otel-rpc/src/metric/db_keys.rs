//! The one table of the database attribute keys (`DB_KEYS`): each key's bounding rule and
//! distinct-values slot, and the bounding of a value by its rule.

use opentelemetry_semantic_conventions::attribute;

/// How a database attribute value is bounded before it reaches span and metric (see
/// the database metric keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbValueRule {
    /// Capped at `MAX_NAME_LEN` bytes (with the truncation marker).
    Capped,
    /// A name taken from a command: recorded only when it passes `name_shape_ok`.
    Name,
}

/// One attribute a `DbOperation` may produce: its key, the rule bounding its value (for the
/// string fields), and its distinct-values slot on the metric (the free-text keys bounded per
/// recorder, see `distinct`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DbKey {
    pub(crate) key: &'static str,
    pub(crate) rule: DbValueRule,
    pub(crate) slot: Option<u8>,
}

const fn db_key(key: &'static str, rule: DbValueRule, slot: Option<u8>) -> DbKey {
    DbKey { key, rule, slot }
}

/// The attributes `DbOperation::attributes` may produce, in the order it produces them (the
/// six string fields first, then `server.port` and the batch size): the one table of the
/// database keys, their bounding rule and distinct-values slot.
pub(crate) const DB_KEYS: [DbKey; 8] = [
    db_key(attribute::DB_SYSTEM_NAME, DbValueRule::Capped, None),
    db_key(attribute::DB_NAMESPACE, DbValueRule::Capped, Some(0)),
    db_key(attribute::DB_COLLECTION_NAME, DbValueRule::Name, Some(1)),
    db_key(attribute::DB_OPERATION_NAME, DbValueRule::Capped, Some(2)),
    db_key(attribute::DB_QUERY_SUMMARY, DbValueRule::Capped, Some(3)),
    db_key(attribute::SERVER_ADDRESS, DbValueRule::Capped, None),
    db_key(attribute::SERVER_PORT, DbValueRule::Capped, None),
    db_key(
        attribute::DB_OPERATION_BATCH_SIZE,
        DbValueRule::Capped,
        None,
    ),
];

/// `value` bounded by `rule`: `None` when it must be omitted. Borrows unless it cuts.
#[inline]
pub(crate) fn bound_db_str(rule: DbValueRule, value: &str) -> Option<std::borrow::Cow<'_, str>> {
    use crate::untrusted::{MAX_NAME_LEN, name_shape_ok};
    if rule == DbValueRule::Name && !name_shape_ok(value) {
        return None;
    }
    if value.len() <= MAX_NAME_LEN {
        return Some(std::borrow::Cow::Borrowed(value));
    }
    Some(crate::text::truncate(value, MAX_NAME_LEN))
}

/// [`bound_db_str`] for an attribute value: a clone of `value` unless it cuts.
#[inline]
pub(crate) fn bound_db_value(
    rule: DbValueRule,
    value: &opentelemetry::StringValue,
) -> Option<opentelemetry::StringValue> {
    match bound_db_str(rule, value.as_str())? {
        std::borrow::Cow::Borrowed(_) => Some(value.clone()),
        std::borrow::Cow::Owned(cut) => Some(cut.into()),
    }
}
