//! Facts read from a command document: its collection and batch size.

use mongodb::bson::{Bson, Document};

/// `db.collection.name`: the value of the command's first key when it is a string (`find`,
/// `insert`, `aggregate`, `createIndexes`, ...), or `getMore`'s `collection` field.
pub(crate) fn collection<'d>(command_name: &str, command: &'d Document) -> Option<&'d str> {
    if command_name.eq_ignore_ascii_case("getMore") {
        return command.get_str("collection").ok();
    }
    match command.iter().next() {
        Some((_, Bson::String(s))) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    }
}

/// `db.operation.batch.size`: the number of documents of an insert, of statements of an update
/// or delete.
pub(crate) fn batch_size(command_name: &str, command: &Document) -> Option<i64> {
    let field = match command_name {
        "insert" => "documents",
        "update" => "updates",
        "delete" => "deletes",
        _ => return None,
    };
    let n = command.get_array(field).ok()?.len();
    i64::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn collections() {
        assert_eq!(
            collection("find", &doc! { "find": "orders", "filter": {} }),
            Some("orders")
        );
        assert_eq!(
            collection(
                "getMore",
                &doc! { "getMore": 42_i64, "collection": "orders" }
            ),
            Some("orders")
        );
        assert_eq!(collection("ping", &doc! { "ping": 1 }), None);
        assert_eq!(
            collection("aggregate", &doc! { "aggregate": 1, "pipeline": [] }),
            None
        );
        assert_eq!(collection("find", &Document::new()), None);
    }

    #[test]
    fn batch_sizes() {
        assert_eq!(
            batch_size("insert", &doc! { "insert": "c", "documents": [{}, {}, {}] }),
            Some(3)
        );
        assert_eq!(
            batch_size("update", &doc! { "update": "c", "updates": [{}] }),
            Some(1)
        );
        assert_eq!(
            batch_size("delete", &doc! { "delete": "c", "deletes": [{}, {}] }),
            Some(2)
        );
        assert_eq!(batch_size("find", &doc! { "find": "c" }), None);
    }
}
