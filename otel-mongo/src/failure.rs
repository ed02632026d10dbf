//! Classifying a failed command: the server error code (`db.response.status_code` and
//! `error.type`) or, for errors that never reached the server, the driver's error kind.
//!
//! Messages never include the server's `errmsg`: it can quote the offending value (a duplicate
//! key error prints the key), so only the code name is kept.

use mongodb::bson::{Bson, Document};
use mongodb::error::{Error, ErrorKind, WriteFailure};

/// Longest message kept for errors that are not server errors.
const MAX_MESSAGE_LEN: usize = 256;

/// Why a command failed, reduced to low-cardinality facts safe to export.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandFailure {
    /// `error.type`: the server error code (`"11000"`), else the driver error kind (`"Io"`).
    pub error_type: String,
    /// `db.response.status_code`: the server error code, when the server sent one.
    pub status_code: Option<String>,
    /// Status description and `exception.message`.
    pub message: String,
}

impl CommandFailure {
    /// A server error with `code` and, when known, its code name (e.g. `DuplicateKey`).
    pub fn server(code: i32, code_name: Option<&str>) -> Self {
        let code_text = code.to_string();
        let message = match code_name.filter(|n| !n.is_empty()) {
            Some(name) => format!("{name} ({code})"),
            None => format!("server error {code}"),
        };
        CommandFailure {
            error_type: code_text.clone(),
            status_code: Some(code_text),
            message,
        }
    }

    /// A failure that is not a server error, of kind `kind` (`error.type`).
    pub fn other(kind: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        CommandFailure {
            error_type: kind.into(),
            status_code: None,
            message: otel_rpc::text::truncate(&message, MAX_MESSAGE_LEN).into_owned(),
        }
    }

    /// Classifies a driver error: the server code when there is one (command error, write
    /// error, write concern error, first error of an insert-many), else the error kind.
    pub fn from_driver_error(err: &Error) -> Self {
        if let Some((code, name)) = server_code(err) {
            return CommandFailure::server(code, name.as_deref());
        }
        CommandFailure::other(kind_name(&err.kind), err.kind.to_string())
    }

    /// The first write error (else the write concern error) of a reply the server sent with
    /// `ok: 1`: inserts, updates and deletes report per-document failures such as a duplicate
    /// key this way, and the driver then emits a *succeeded* event for them.
    pub fn from_reply(reply: &Document) -> Option<Self> {
        let first_write_error = reply
            .get_array("writeErrors")
            .ok()
            .and_then(|errors| errors.first())
            .and_then(Bson::as_document);
        let error = first_write_error.or_else(|| reply.get_document("writeConcernError").ok())?;
        let code = int_field(error, "code")?;
        Some(CommandFailure::server(code, error.get_str("codeName").ok()))
    }
}

fn int_field(doc: &Document, key: &str) -> Option<i32> {
    match doc.get(key)? {
        Bson::Int32(v) => Some(*v),
        Bson::Int64(v) => i32::try_from(*v).ok(),
        Bson::Double(v) if v.fract() == 0.0 && v.abs() <= f64::from(i32::MAX) => Some(*v as i32),
        _ => None,
    }
}

fn server_code(err: &Error) -> Option<(i32, Option<String>)> {
    let found = match err.kind.as_ref() {
        ErrorKind::Command(e) => Some((e.code, Some(e.code_name.clone()))),
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some((e.code, e.code_name.clone())),
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => {
            Some((e.code, Some(e.code_name.clone())))
        }
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|e| (e.code, e.code_name.clone()))
            .or_else(|| {
                e.write_concern_error
                    .as_ref()
                    .map(|e| (e.code, Some(e.code_name.clone())))
            }),
        _ => None,
    };
    found.or_else(|| {
        std::error::Error::source(err)
            .and_then(|s| s.downcast_ref::<Error>())
            .and_then(server_code)
    })
}

/// A stable name for a driver error kind (`error.type` when there is no server code).
fn kind_name(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidArgument { .. } => "InvalidArgument",
        ErrorKind::Authentication { .. } => "Authentication",
        ErrorKind::BsonDeserialization(..) => "BsonDeserialization",
        ErrorKind::BsonSerialization(..) => "BsonSerialization",
        ErrorKind::InsertMany(..) => "InsertMany",
        ErrorKind::BulkWrite(..) => "BulkWrite",
        ErrorKind::Command(..) => "Command",
        ErrorKind::DnsResolve { .. } => "DnsResolve",
        ErrorKind::GridFs(..) => "GridFs",
        ErrorKind::Internal { .. } => "Internal",
        ErrorKind::Io(..) => "Io",
        ErrorKind::ConnectionPoolCleared { .. } => "ConnectionPoolCleared",
        ErrorKind::InvalidResponse { .. } => "InvalidResponse",
        ErrorKind::ServerSelection { .. } => "ServerSelection",
        ErrorKind::SessionsNotSupported => "SessionsNotSupported",
        ErrorKind::InvalidTlsConfig { .. } => "InvalidTlsConfig",
        ErrorKind::Write(..) => "Write",
        ErrorKind::Transaction { .. } => "Transaction",
        ErrorKind::IncompatibleServer { .. } => "IncompatibleServer",
        ErrorKind::MissingResumeToken => "MissingResumeToken",
        ErrorKind::Custom(..) => "Custom",
        ErrorKind::Shutdown => "Shutdown",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn write_errors_in_a_succeeded_reply_are_failures() {
        let reply = doc! {
            "n": 0,
            "writeErrors": [{ "index": 0, "code": 11000, "errmsg": "E11000 dup key: { _id: \"hunter2\" }" }],
            "ok": 1.0,
        };
        let f = CommandFailure::from_reply(&reply).expect("write error");
        assert_eq!(f.error_type, "11000");
        assert_eq!(f.status_code.as_deref(), Some("11000"));
        assert_eq!(f.message, "server error 11000");
        assert!(!f.message.contains("hunter2"));
    }

    #[test]
    fn write_concern_errors_count_and_clean_replies_do_not() {
        let reply = doc! { "n": 1, "writeConcernError": { "code": 64, "codeName": "WriteConcernFailed" }, "ok": 1 };
        let f = CommandFailure::from_reply(&reply).expect("write concern error");
        assert_eq!(f.status_code.as_deref(), Some("64"));
        assert_eq!(f.message, "WriteConcernFailed (64)");
        assert_eq!(CommandFailure::from_reply(&doc! { "n": 1, "ok": 1 }), None);
        assert_eq!(
            CommandFailure::from_reply(&doc! { "writeErrors": [], "ok": 1 }),
            None
        );
    }

    #[test]
    fn non_server_errors_use_the_kind() {
        let err = Error::custom("boom");
        let f = CommandFailure::from_driver_error(&err);
        assert_eq!(f.error_type, "Custom");
        assert_eq!(f.status_code, None);
    }
}
