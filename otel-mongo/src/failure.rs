//! Classifying a failed command: the server error code (`db.response.status_code` and
//! `error.type`) or, for errors that never reached the server, the driver's error kind.
//!
//! What a failure records by default comes from closed sets only: the numeric code, the name
//! this crate's static table gives it (never the reply's `codeName`, which is server text),
//! or the driver error kind. The server's `errmsg` (which quotes offending values: a
//! duplicate key error prints the key) and the driver error's text are kept in
//! [`CommandFailure::untrusted_message`] and recorded only when the application opts in to
//! scrubbed error text.

use mongodb::bson::{Bson, Document};
use mongodb::error::{Error, ErrorKind, WriteFailure};

use otel_rpc::{ErrorTextMode, Failure, Outcome};

use crate::codes;
use crate::command;

/// Longest untrusted message kept in memory (it is scrubbed and capped again when recorded).
const MAX_UNTRUSTED_LEN: usize = 4096;

/// Why a command failed, reduced to low-cardinality facts safe to export, plus the untrusted
/// text that is recorded only on request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommandFailure {
    /// `error.type`: the server error code (`"11000"`), else the driver error kind (`"Io"`).
    pub error_type: String,
    /// `db.response.status_code`: the server error code, when the server sent one.
    pub status_code: Option<String>,
    /// Fixed description (the status description): the code's name from a static table
    /// (`DuplicateKey`); `None` for codes the table does not know and for driver errors.
    pub description: Option<&'static str>,
    /// The server's `errmsg` or the driver error's text. **Untrusted**: it can quote values.
    /// Recorded only with [`ErrorTextMode::Scrubbed`](otel_rpc::ErrorTextMode), scrubbed and
    /// capped.
    pub untrusted_message: Option<String>,
    /// `true` for errors that are not a server's answer (I/O, server selection, driver
    /// errors): recorded as an exception. A server error code is a classified response, not
    /// an exception.
    pub is_exception: bool,
}

impl CommandFailure {
    /// A server error with `code`. Its name comes from this crate's table of known codes
    /// (never the reply's `codeName`, which is server text).
    #[cfg(any(test, feature = "testing"))]
    pub fn server(code: i32) -> Self {
        Self::from_code(code, None)
    }

    /// A server error with `code` and the server's message (kept as untrusted text).
    pub fn from_code(code: i32, server_message: Option<&str>) -> Self {
        let code_text = code.to_string();
        let description = codes::code_name(code);
        CommandFailure {
            error_type: code_text.clone(),
            status_code: Some(code_text),
            description,
            untrusted_message: server_message.map(capped),
            is_exception: false,
        }
    }

    /// A failure that is not a server error, of kind `kind` (`error.type`, a fixed name);
    /// `message` is kept as untrusted text.
    pub fn other(kind: impl Into<String>, message: impl Into<String>) -> Self {
        let kind = kind.into();
        let message: String = message.into();
        CommandFailure {
            error_type: kind,
            status_code: None,
            description: None,
            untrusted_message: Some(capped(&message)),
            is_exception: true,
        }
    }

    /// Classifies a driver error: the server code when there is one (command error, write
    /// error, write concern error, first error of an insert-many), else the error kind.
    pub fn from_driver_error(err: &Error) -> Self {
        if let Some((code, message)) = server_code(err) {
            return CommandFailure::from_code(code, Some(message));
        }
        CommandFailure::other(kind_name(&err.kind), err.kind.to_string())
    }

    /// The first write error (else the write concern error) of a reply the server sent with
    /// `ok: 1`: inserts, updates and deletes report per-document failures such as a duplicate
    /// key this way, and the driver then emits a *succeeded* event for them.
    pub fn from_reply(reply: &Document) -> Option<Self> {
        let first_write_error = match command::field(reply, "writeErrors") {
            Some(Bson::Array(errors)) => errors.first().and_then(Bson::as_document),
            _ => None,
        };
        let error =
            first_write_error.or_else(|| match command::field(reply, "writeConcernError") {
                Some(Bson::Document(error)) => Some(error),
                _ => None,
            })?;
        let code = int_field(error, "code")?;
        Some(CommandFailure::from_code(
            code,
            error.get_str("errmsg").ok(),
        ))
    }

    /// The recorded form of this failure: code (or kind) and the code's fixed name; the
    /// untrusted message only under the [`ErrorTextMode::Scrubbed`] opt-in (scrubbed and
    /// capped).
    pub(crate) fn outcome(&self, error_text: ErrorTextMode) -> Outcome<'_> {
        let mut f = Failure::new(self.error_type.as_str());
        if let Some(description) = self.description {
            f = f.with_message(description);
        }
        if let Some(text) = &self.untrusted_message {
            f = f.with_untrusted_message(text, error_text);
        }
        if let Some(code) = &self.status_code {
            f = f.with_status_code(code.as_str());
        }
        if self.is_exception {
            f = f.with_exception();
        }
        Outcome::Failure(f)
    }
}

fn capped(text: &str) -> String {
    otel_rpc::text::truncate(text, MAX_UNTRUSTED_LEN).into_owned()
}

fn int_field(doc: &Document, key: &str) -> Option<i32> {
    match doc.get(key)? {
        Bson::Int32(v) => Some(*v),
        Bson::Int64(v) => i32::try_from(*v).ok(),
        Bson::Double(v) if v.fract() == 0.0 && v.abs() <= f64::from(i32::MAX) => Some(*v as i32),
        _ => None,
    }
}

/// The server code and message of a driver error, if the server sent one.
fn server_code(err: &Error) -> Option<(i32, &str)> {
    let found = match err.kind.as_ref() {
        ErrorKind::Command(e) => Some((e.code, e.message.as_str())),
        ErrorKind::Write(WriteFailure::WriteError(e)) => Some((e.code, e.message.as_str())),
        ErrorKind::Write(WriteFailure::WriteConcernError(e)) => Some((e.code, e.message.as_str())),
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|e| (e.code, e.message.as_str()))
            .or_else(|| {
                e.write_concern_error
                    .as_ref()
                    .map(|e| (e.code, e.message.as_str()))
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
        _ => otel_rpc::OTHER,
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
            "writeErrors": [{ "index": 0, "code": 11000, "codeName": "hunter2", "errmsg": "E11000 dup key: { _id: \"hunter2\" }" }],
            "ok": 1.0,
        };
        let f = CommandFailure::from_reply(&reply).expect("write error");
        assert_eq!(f.error_type, "11000");
        assert_eq!(f.status_code.as_deref(), Some("11000"));
        assert_eq!(f.description, Some("DuplicateKey"));
        assert!(!f.is_exception);
        assert!(
            f.untrusted_message
                .as_deref()
                .is_some_and(|m| m.contains("hunter2"))
        );
    }

    #[test]
    fn unknown_codes_are_numbers_only_and_server_code_names_are_ignored() {
        let reply = doc! { "n": 1, "writeConcernError": { "code": 987_654, "codeName": "s3cret" }, "ok": 1 };
        let f = CommandFailure::from_reply(&reply).expect("write concern error");
        assert_eq!(f.status_code.as_deref(), Some("987654"));
        assert_eq!(f.description, None);
        assert_eq!(f.untrusted_message, None);
        let f = CommandFailure::server(64);
        assert_eq!(f.description, Some("WriteConcernTimeout"));
        assert_eq!(CommandFailure::from_reply(&doc! { "n": 1, "ok": 1 }), None);
        assert_eq!(
            CommandFailure::from_reply(&doc! { "writeErrors": [], "ok": 1 }),
            None
        );
    }

    #[test]
    fn non_server_errors_use_the_kind_and_are_exceptions() {
        let err = Error::custom("boom");
        let f = CommandFailure::from_driver_error(&err);
        assert_eq!(f.error_type, "Custom");
        assert_eq!(f.status_code, None);
        assert_eq!(f.description, None);
        assert!(f.is_exception);
    }
}
