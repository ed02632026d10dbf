//! Classifying a `sqlx::Error` into the span's failure: SQLSTATE (or SQLite result code) for
//! database errors, the error kind for the rest; messages scrubbed of quoted values.

use std::borrow::Cow;

use otel_rpc::Failure;
use sqlx::Error;

use crate::sql::sanitize_message;

/// `error.type` for a sqlx error that is not a database error: the variant name.
pub fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::Configuration(_) => "Configuration",
        Error::InvalidArgument(_) => "InvalidArgument",
        Error::Database(_) => "Database",
        Error::Io(_) => "Io",
        Error::Tls(_) => "Tls",
        Error::Protocol(_) => "Protocol",
        Error::RowNotFound => "RowNotFound",
        Error::TypeNotFound { .. } => "TypeNotFound",
        Error::ColumnIndexOutOfBounds { .. } => "ColumnIndexOutOfBounds",
        Error::ColumnNotFound(_) => "ColumnNotFound",
        Error::ColumnDecode { .. } => "ColumnDecode",
        Error::Encode(_) => "Encode",
        Error::Decode(_) => "Decode",
        Error::AnyDriverError(_) => "AnyDriverError",
        Error::PoolTimedOut => "PoolTimedOut",
        Error::PoolClosed => "PoolClosed",
        Error::WorkerCrashed => "WorkerCrashed",
        Error::InvalidSavePointStatement => "InvalidSavePointStatement",
        Error::BeginFailed => "BeginFailed",
        _ => "Other",
    }
}

/// The failure recorded for `err`. With `raw_messages` the server message is kept verbatim;
/// otherwise quoted values and numbers in it become `?`.
pub(crate) fn failure(err: &Error, raw_messages: bool) -> Failure<'static> {
    let (error_type, code, message): (Cow<'static, str>, Option<String>, String) = match err {
        Error::Database(db) => {
            let code = db.code().map(Cow::into_owned);
            let error_type = code
                .clone()
                .map(Cow::Owned)
                .unwrap_or(Cow::Borrowed("Database"));
            (error_type, code, db.message().to_string())
        }
        other => (Cow::Borrowed(error_kind(other)), None, other.to_string()),
    };
    let message = if raw_messages {
        message
    } else {
        sanitize_message(&message)
    };
    let mut failure = Failure::new(error_type).with_message(message);
    if let Some(code) = code {
        failure = failure.with_status_code(code);
    }
    failure
}
