//! Classifies redis-rs results: server error replies (inside `Ok` values or as `Err`),
//! aborted transactions and client-side errors become [`Outcome::Failure`]s whose `error.type`
//! and `db.response.status_code` are the error code (`WRONGTYPE`, `ERR`, `EXECABORT`, ...) or,
//! for errors that never reached the server, the error kind (`io`, `timeout`, ...).
//!
//! Error *details* are never recorded: a server's message can quote the command's arguments
//! (`ERR unknown command 'X', with args beginning with: 'secret'`).

use std::borrow::Cow;

use opentelemetry::KeyValue;
use otel_rpc::{Failure, Outcome, Recording};
use redis::{ErrorKind, RedisError, RedisResult, Value};

/// Span attribute: how many commands of a pipeline failed (set only when some did). A custom
/// attribute of this crate: the semantic conventions have none for it.
pub const PIPELINE_FAILED_COMMANDS: &str = "redis.pipeline.failed_commands";

/// `error.type` for an error code that does not look like one (a Lua `error_reply` with an
/// arbitrary first word, say): never a free-form string.
pub const OTHER_ERROR: &str = "_OTHER";

/// Longest error code recorded as is.
const MAX_CODE_LEN: usize = 32;

/// The outcome of one command.
pub(crate) fn command(result: &RedisResult<Value>) -> Outcome<'_> {
    match result {
        Ok(Value::ServerError(e)) => server_failure(e.code()).into(),
        Ok(_) => Outcome::Success,
        Err(e) => error(e).0.into(),
    }
}

/// Ends a pipeline's span: status from the replies, plus
/// [`PIPELINE_FAILED_COMMANDS`] when some commands failed.
pub(crate) fn end_pipeline(recording: Recording, result: &RedisResult<Vec<Value>>, atomic: bool) {
    let (outcome, failed) = pipeline(result, atomic);
    if let Some(n) = failed {
        recording.set_attribute(KeyValue::new(
            PIPELINE_FAILED_COMMANDS,
            i64::try_from(n).unwrap_or(i64::MAX),
        ));
    }
    recording.end(outcome);
}

/// The outcome of a pipeline, and how many of its commands failed when that is known.
pub(crate) fn pipeline<'a>(
    result: &'a RedisResult<Vec<Value>>,
    atomic: bool,
) -> (Outcome<'a>, Option<usize>) {
    match result {
        Ok(values) => {
            let mut failed = 0usize;
            let mut first: Option<&str> = None;
            let mut visit = |v: &'a Value| {
                if let Value::ServerError(e) = v {
                    failed += 1;
                    if first.is_none() {
                        first = Some(e.code());
                    }
                }
            };
            for v in values {
                // A transaction's replies come back as one array: the reply to EXEC.
                match v {
                    Value::Array(items) if atomic => items.iter().for_each(&mut visit),
                    v => visit(v),
                }
            }
            let Some(code) = first else {
                return (Outcome::Success, None);
            };
            let failure = server_failure(code).with_message(format!(
                "{failed} command(s) of the pipeline failed, the first with {}",
                checked_code(code)
            ));
            (failure.into(), Some(failed))
        }
        Err(e) => {
            let (failure, failed) = error(e);
            (failure.into(), failed)
        }
    }
}

fn server_failure(code: &str) -> Failure<'_> {
    let code = checked_code(code);
    Failure::new(code)
        .with_status_code(code)
        .with_message(format!("redis server replied with error {code}"))
}

/// A failure for an `Err` result, with the number of server errors it carries (an aborted
/// transaction lists the commands the server rejected).
fn error(e: &RedisError) -> (Failure<'_>, Option<usize>) {
    if let Some(code) = e.code() {
        let code = checked_code(code);
        let errors = e.clone().into_server_errors();
        let failed = errors.as_ref().map(|errs| errs.len());
        let message = match (e.kind(), errors.as_ref().and_then(|errs| errs.first())) {
            (ErrorKind::Server(redis::ServerErrorKind::ExecAbort), Some((index, first))) => {
                format!(
                    "transaction aborted: {} queued command(s) rejected, the first (index {index}) with {}",
                    failed.unwrap_or(0),
                    checked_code(first.code()),
                )
            }
            _ => format!("redis server replied with error {code}"),
        };
        let failure = Failure::new(code)
            .with_status_code(code)
            .with_message(message);
        return (failure, failed);
    }
    let kind = kind_name(e);
    let message: Cow<'_, str> = if e.is_io_error() {
        // I/O errors describe the socket, never the command.
        Cow::Owned(e.to_string())
    } else {
        Cow::Borrowed(e.category())
    };
    (Failure::new(kind).with_message(message), None)
}

/// `code` when it looks like a Redis error code (`WRONGTYPE`, `NOSCRIPT`), else
/// [`OTHER_ERROR`].
fn checked_code(code: &str) -> &str {
    let plausible = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if plausible { code } else { OTHER_ERROR }
}

/// A low-cardinality name for an error that carries no server code.
fn kind_name(e: &RedisError) -> &'static str {
    if e.is_timeout() {
        return "timeout";
    }
    if e.is_connection_refusal() {
        return "connection_refused";
    }
    if e.is_connection_dropped() {
        return "connection_dropped";
    }
    match e.kind() {
        ErrorKind::Io => "io",
        ErrorKind::Parse => "parse",
        ErrorKind::AuthenticationFailed => "authentication_failed",
        ErrorKind::UnexpectedReturnType => "unexpected_return_type",
        ErrorKind::InvalidClientConfig => "invalid_client_config",
        ErrorKind::Client => "client",
        ErrorKind::Extension => "extension",
        ErrorKind::ClusterConnectionNotFound => "cluster_connection_not_found",
        ErrorKind::RESP3NotSupported => "resp3_not_supported",
        _ => "redis",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert_eq!(checked_code("WRONGTYPE"), "WRONGTYPE");
        assert_eq!(checked_code("ERR"), "ERR");
        assert_eq!(checked_code("my-secret value"), OTHER_ERROR);
        assert_eq!(checked_code("lowercase"), OTHER_ERROR);
        assert_eq!(checked_code(""), OTHER_ERROR);
        assert_eq!(checked_code(&"A".repeat(33)), OTHER_ERROR);
    }

    #[test]
    fn nil_and_values_are_success() {
        assert!(command(&Ok(Value::Nil)).is_success());
        assert!(command(&Ok(Value::Okay)).is_success());
        let replies = Ok(vec![Value::Nil, Value::Int(1)]);
        let (outcome, failed) = pipeline(&replies, false);
        assert!(outcome.is_success());
        assert_eq!(failed, None);
        // WATCH made EXEC return nil: the transaction did not run, which is not an error.
        assert!(pipeline(&Ok(vec![Value::Nil]), true).0.is_success());
    }

    #[test]
    fn io_errors_are_named_by_kind() {
        let e = RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        let result = Err(e);
        let Outcome::Failure(f) = command(&result) else {
            panic!("failure expected");
        };
        assert_eq!(f.error_type, "connection_refused");
        assert_eq!(f.status_code, None);
    }
}
