//! Classifying a `sqlx::Error` into the span's failure, following the one rule of
//! `otel-rpc/src/untrusted.rs`: nothing the server (or the driver) wrote is recorded by default.
//!
//! * Database errors: `db.response.status_code` and `error.type` = the SQLSTATE (PostgreSQL,
//!   MySQL/MariaDB; only when it has the SQLSTATE shape, five of `[0-9A-Z]`) or the SQLite
//!   extended result code (digits only); the status description is a fixed text per SQLSTATE
//!   class / SQLite primary code (`integrity constraint violation`, `constraint violation`).
//!   A response code, not an exception.
//! * Everything else (pool timeout, I/O, TLS, protocol, decoding...): `error.type` from the
//!   closed set [`ERROR_KINDS`], a fixed description, and an exception.
//! * [`ErrorTextMode::Scrubbed`] (opt-in) replaces the fixed description by the server or
//!   driver text after `[`otel_rpc::scrub`]`.

use std::borrow::Cow;

use otel_rpc::OTHER;
use otel_rpc::{ErrorTextMode, Failure};
use sqlx::Error;

/// Every `error.type` value a non-database `sqlx::Error` is recorded with (plus `_OTHER` for
/// variants added to sqlx later).
pub const ERROR_KINDS: &[&str] = &[
    "Configuration",
    "InvalidArgument",
    "Io",
    "Tls",
    "Protocol",
    "RowNotFound",
    "TypeNotFound",
    "ColumnIndexOutOfBounds",
    "ColumnNotFound",
    "ColumnDecode",
    "Encode",
    "Decode",
    "AnyDriverError",
    "PoolTimedOut",
    "PoolClosed",
    "WorkerCrashed",
    "InvalidSavePointStatement",
    "BeginFailed",
    OTHER,
];

/// `error.type` for a sqlx error that is not a database error: the variant name, one of
/// [`ERROR_KINDS`]. A database error without a valid code gives `_OTHER`.
pub(crate) fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::Configuration(_) => "Configuration",
        Error::InvalidArgument(_) => "InvalidArgument",
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
        _ => OTHER,
    }
}

/// The fixed description of a non-database error kind.
fn kind_description(kind: &str) -> &'static str {
    match kind {
        "Configuration" => "invalid connection configuration",
        "InvalidArgument" => "invalid argument",
        "Io" => "I/O error talking to the database",
        "Tls" => "TLS error talking to the database",
        "Protocol" => "unexpected or invalid data from the database",
        "RowNotFound" => "no rows returned where one was expected",
        "TypeNotFound" => "type not found in the database",
        "ColumnIndexOutOfBounds" => "column index out of bounds",
        "ColumnNotFound" => "column not found",
        "ColumnDecode" => "could not decode a column value",
        "Encode" => "could not encode a value",
        "Decode" => "could not decode a value",
        "AnyDriverError" => "driver error",
        "PoolTimedOut" => "timed out waiting for a pooled connection",
        "PoolClosed" => "the pool is closed",
        "WorkerCrashed" => "the connection's background worker crashed",
        "InvalidSavePointStatement" => "invalid savepoint statement",
        "BeginFailed" => "could not begin a transaction",
        _ => "database client error",
    }
}

/// How a backend's `DatabaseError::code()` is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeKind {
    /// PostgreSQL, MySQL/MariaDB: a SQLSTATE.
    SqlState,
    /// SQLite: the extended result code, in decimal.
    SqliteResultCode,
}

/// A validated database code and its fixed description.
fn classify_code(kind: CodeKind, code: &str) -> Option<(&str, &'static str)> {
    match kind {
        CodeKind::SqlState => sqlstate(code).map(|c| (c, sqlstate_class(c))),
        CodeKind::SqliteResultCode => {
            let valid =
                !code.is_empty() && code.len() <= 6 && code.bytes().all(|b| b.is_ascii_digit());
            let n: u32 = code.parse().ok().filter(|_| valid)?;
            Some((code, sqlite_primary(n & 0xff)))
        }
    }
}

/// The fixed description of a SQLSTATE's class (its first two characters).
fn sqlstate_class(code: &str) -> &'static str {
    match code.get(..2).unwrap_or("") {
        "01" => "warning",
        "02" => "no data",
        "03" => "SQL statement not yet complete",
        "08" => "connection exception",
        "09" => "triggered action exception",
        "0A" => "feature not supported",
        "0B" => "invalid transaction initiation",
        "0F" => "locator exception",
        "0L" => "invalid grantor",
        "0P" => "invalid role specification",
        "0Z" => "diagnostics exception",
        "20" => "case not found",
        "21" => "cardinality violation",
        "22" => "data exception",
        "23" => "integrity constraint violation",
        "24" => "invalid cursor state",
        "25" => "invalid transaction state",
        "26" => "invalid SQL statement name",
        "27" => "triggered data change violation",
        "28" => "invalid authorization specification",
        "2B" => "dependent privilege descriptors still exist",
        "2D" => "invalid transaction termination",
        "2F" => "SQL routine exception",
        "34" => "invalid cursor name",
        "38" => "external routine exception",
        "39" => "external routine invocation exception",
        "3B" => "savepoint exception",
        "3D" => "invalid catalog name",
        "3F" => "invalid schema name",
        "40" => "transaction rollback",
        "42" => "syntax error or access rule violation",
        "44" => "WITH CHECK OPTION violation",
        "45" => "unhandled user-defined exception",
        "53" => "insufficient resources",
        "54" => "program limit exceeded",
        "55" => "object not in prerequisite state",
        "57" => "operator intervention",
        "58" => "system error",
        "72" => "snapshot failure",
        "F0" => "configuration file error",
        "HV" => "foreign data wrapper error",
        "HY" => "general error",
        "P0" => "PL/pgSQL error",
        "XX" => "internal error",
        _ => "database error",
    }
}

/// The fixed description of a SQLite primary result code.
fn sqlite_primary(code: u32) -> &'static str {
    match code {
        1 => "SQL error",
        2 => "internal error",
        3 => "permission denied",
        4 => "aborted",
        5 => "database busy",
        6 => "table locked",
        7 => "out of memory",
        8 => "read-only database",
        9 => "interrupted",
        10 => "disk I/O error",
        11 => "database corrupt",
        12 => "not found",
        13 => "database full",
        14 => "cannot open database",
        15 => "locking protocol error",
        16 => "empty",
        17 => "schema changed",
        18 => "too big",
        19 => "constraint violation",
        20 => "datatype mismatch",
        21 => "library misuse",
        22 => "large file support unavailable",
        23 => "authorization denied",
        24 => "format error",
        25 => "parameter out of range",
        26 => "not a database",
        _ => "database error",
    }
}

/// The failure recorded for `err`. Server and driver text reaches it only through `mode`
/// ([`ErrorTextMode::Scrubbed`]); by default it holds a code, a class and a fixed description.
pub(crate) fn failure(err: &Error, codes: CodeKind, mode: ErrorTextMode) -> Failure<'static> {
    match err {
        Error::Database(db) => {
            let code = db.code();
            let classified = code.as_deref().and_then(|c| classify_code(codes, c));
            let failure = match classified {
                Some((code, description)) => Failure::new(Cow::Owned(code.to_owned()))
                    .with_status_code(Cow::Owned(code.to_owned()))
                    .with_message(description),
                None => Failure::new(OTHER).with_message("database error"),
            };
            failure.with_untrusted_message(db.message(), mode)
        }
        other => {
            let kind = error_kind(other);
            let failure = Failure::new(kind)
                .with_message(kind_description(kind))
                .with_exception();
            if mode == ErrorTextMode::Off {
                failure
            } else {
                failure.with_untrusted_message(&other.to_string(), mode)
            }
        }
    }
}

/// `code` when it is a well-formed SQLSTATE (exactly five characters of `0-9` / `A-Z`), else
/// `None`.
fn sqlstate(code: &str) -> Option<&str> {
    (code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()))
    .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_are_five_digits_or_capitals() {
        assert_eq!(sqlstate("23505"), Some("23505"));
        assert_eq!(sqlstate("HV00R"), Some("HV00R"));
        for bad in [
            "",
            "2350",
            "235050",
            "2350a",
            "2350'",
            "23 05",
            "２３５０５",
        ] {
            assert_eq!(sqlstate(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn codes_are_validated() {
        assert_eq!(
            classify_code(CodeKind::SqlState, "23505"),
            Some(("23505", "integrity constraint violation"))
        );
        assert_eq!(classify_code(CodeKind::SqlState, "2350'"), None);
        assert_eq!(classify_code(CodeKind::SqlState, "secret-token"), None);
        assert_eq!(
            classify_code(CodeKind::SqliteResultCode, "2067"),
            Some(("2067", "constraint violation"))
        );
        assert_eq!(classify_code(CodeKind::SqliteResultCode, "20a7"), None);
        assert_eq!(classify_code(CodeKind::SqliteResultCode, ""), None);
        assert_eq!(classify_code(CodeKind::SqliteResultCode, "99999999"), None);
    }

    #[test]
    fn non_database_errors_use_the_closed_set() {
        let errors = [
            Error::PoolTimedOut,
            Error::Protocol("secret-protocol 'x'".into()),
            Error::Io(std::io::Error::other("secret-io")),
            Error::ColumnNotFound("secret_col".into()),
        ];
        for e in &errors {
            let f = failure(e, CodeKind::SqlState, ErrorTextMode::Off);
            assert!(ERROR_KINDS.contains(&f.error_type.as_ref()), "{f:?}");
            assert!(f.exception);
            assert!(
                !f.message.as_deref().unwrap_or("").contains("secret"),
                "{f:?}"
            );
            assert_eq!(f.status_code, None);
        }
    }
}
