//! Classifies redis-rs results: server error replies (inside `Ok` values or as `Err`),
//! aborted transactions and client-side errors become [`Outcome::Failure`]s whose `error.type`
//! and `db.response.status_code` are the reply's error prefix when it is one Redis itself
//! defines ([`ERROR_PREFIXES`]: `WRONGTYPE`, `ERR`, `EXECABORT`, ...), else `_OTHER`,
//! or, for errors that never reached the server, the error kind (`io`, `timeout`, ...).
//!
//! The rest of a reply is never recorded: a server's message can quote the command's
//! arguments (`ERR unknown command 'X', with args beginning with: 'secret'`), and a script
//! chooses its whole error reply (`redis.error_reply(ARGV[1])`), first word included.

use opentelemetry::KeyValue;
use otel_rpc::ErrorTextMode;
use otel_rpc::{Failure, Outcome, Recording};
use redis::{ErrorKind, RedisError, RedisResult, ServerError, Value};

/// Span attribute: how many commands of a pipeline failed (set only when some did). A custom
/// attribute of this crate: the semantic conventions have none for it.
pub const PIPELINE_FAILED_COMMANDS: &str = "redis.pipeline.failed_commands";

/// The error prefixes Redis itself replies with (`-WRONGTYPE Operation against a key ...`),
/// as found in the Redis server (7.x) source, plus the cluster redirections `MOVED` and `ASK`.
/// Only these are recorded as `error.type` / `db.response.status_code`; any other first word
/// becomes `_OTHER`.
pub const ERROR_PREFIXES: &[&str] = &[
    "ASK",
    "BUSY",
    "BUSYGROUP",
    "BUSYKEY",
    "CLUSTERDOWN",
    "CROSSSLOT",
    "DENIED",
    "ERR",
    "EXECABORT",
    "INPROG",
    "INVALIDOBJ",
    "IOERR",
    "LOADING",
    "MASTERDOWN",
    "MISCONF",
    "MOVED",
    "NOAUTH",
    "NOGOODSLAVE",
    "NOGROUP",
    "NOMASTERLINK",
    "NOPERM",
    "NOPROTO",
    "NOQUORUM",
    "NOREPLICAS",
    "NOSCRIPT",
    "NOTBUSY",
    "OOM",
    "READONLY",
    "TRYAGAIN",
    "UNBLOCKED",
    "UNKILLABLE",
    "WRONGPASS",
    "WRONGTYPE",
];

/// The outcome of one command. `errors` decides whether the server's error text is recorded
/// (scrubbed) as the status description.
pub(crate) fn command(result: &RedisResult<Value>, errors: ErrorTextMode) -> Outcome<'_> {
    match result {
        Ok(Value::ServerError(e)) => server_failure(e.code(), errors, || server_text(e)).into(),
        Ok(_) => Outcome::Success,
        Err(e) => error(e, errors).0.into(),
    }
}

/// Ends a pipeline's span: status from the replies, plus
/// [`PIPELINE_FAILED_COMMANDS`] when some commands failed.
pub(crate) fn end_pipeline(
    recording: Recording,
    result: &RedisResult<Vec<Value>>,
    atomic: bool,
    errors: ErrorTextMode,
) {
    let (outcome, failed) = pipeline(result, atomic, errors);
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
    errors: ErrorTextMode,
) -> (Outcome<'a>, Option<usize>) {
    match result {
        Ok(values) => {
            let mut failed = 0usize;
            let mut first: Option<&'a ServerError> = None;
            let mut visit = |v: &'a Value| {
                if let Value::ServerError(e) = v {
                    failed += 1;
                    if first.is_none() {
                        first = Some(e);
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
            let Some(first) = first else {
                return (Outcome::Success, None);
            };
            let code = checked_code(first.code());
            let failure = Failure::new(code)
                .with_status_code(code)
                .with_message(format!(
                    "{failed} command(s) of the pipeline failed, the first with {code}"
                ))
                .with_untrusted_message(&server_text(first), errors);
            (failure.into(), Some(failed))
        }
        Err(e) => {
            let (failure, failed) = error(e, errors);
            (failure.into(), failed)
        }
    }
}

/// A classified failure for an error reply whose first word is `code`: a response, not an
/// exception. `text` (the whole reply) is recorded, scrubbed, only under the opt-in.
fn server_failure(
    code: &str,
    errors: ErrorTextMode,
    text: impl FnOnce() -> String,
) -> Failure<'static> {
    let code = checked_code(code);
    let failure = Failure::new(code)
        .with_status_code(code)
        .with_message(format!("redis server replied with error {code}"));
    match errors {
        ErrorTextMode::Off => failure,
        mode => failure.with_untrusted_message(&text(), mode),
    }
}

/// The whole text of an error reply: its code and its details.
fn server_text(e: &ServerError) -> String {
    match e.details() {
        Some(details) => format!("{} {details}", e.code()),
        None => e.code().to_owned(),
    }
}

/// A failure for an `Err` result, with the number of server errors it carries (an aborted
/// transaction lists the commands the server rejected).
fn error(e: &RedisError, errors: ErrorTextMode) -> (Failure<'_>, Option<usize>) {
    if let Some(code) = e.code() {
        let code = checked_code(code);
        let server_errors = e.clone().into_server_errors();
        let failed = server_errors.as_ref().map(|errs| errs.len());
        let message = match (
            e.kind(),
            server_errors.as_ref().and_then(|errs| errs.first()),
        ) {
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
        let failure = match errors {
            ErrorTextMode::Off => failure,
            mode => failure.with_untrusted_message(&e.to_string(), mode),
        };
        return (failure, failed);
    }
    // A client-side error (I/O, timeout, parse, ...): an exception, with a fixed description
    // per kind unless the error text is opted in.
    let failure = Failure::new(kind_name(e))
        .with_exception()
        .with_message(e.category());
    let failure = match errors {
        ErrorTextMode::Off => failure,
        mode => failure.with_untrusted_message(&e.to_string(), mode),
    };
    (failure, None)
}

/// `code` when it is one of [`ERROR_PREFIXES`] (exactly, case included), else
/// `_OTHER`.
fn checked_code(code: &str) -> &'static str {
    otel_rpc::closed(code, ERROR_PREFIXES)
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
        for known in ERROR_PREFIXES {
            assert_eq!(checked_code(known), *known);
        }
        assert!(ERROR_PREFIXES.windows(2).all(|w| w[0] < w[1]));
        for other in [
            "my-secret value",
            "SECRET_TOKEN_1",
            "TOKEN",
            "err",
            "lowercase",
            "",
            "WRONGTYPE2",
            "ERR ",
        ] {
            assert_eq!(checked_code(other), otel_rpc::OTHER, "{other}");
        }
        assert_eq!(checked_code(&"A".repeat(33)), otel_rpc::OTHER);
    }

    #[test]
    fn nil_and_values_are_success() {
        let off = ErrorTextMode::Off;
        assert!(command(&Ok(Value::Nil), off).is_success());
        assert!(command(&Ok(Value::Okay), off).is_success());
        let replies = Ok(vec![Value::Nil, Value::Int(1)]);
        let (outcome, failed) = pipeline(&replies, false, off);
        assert!(outcome.is_success());
        assert_eq!(failed, None);
        // WATCH made EXEC return nil: the transaction did not run, which is not an error.
        assert!(pipeline(&Ok(vec![Value::Nil]), true, off).0.is_success());
    }

    #[test]
    fn io_errors_are_named_by_kind() {
        let e = RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        let result = Err(e);
        let Outcome::Failure(f) = command(&result, ErrorTextMode::Off) else {
            panic!("failure expected");
        };
        assert_eq!(f.error_type, "connection_refused");
        assert_eq!(f.status_code, None);
        assert!(f.exception, "a client-side error is an exception");
        assert!(!f.message.unwrap_or_default().contains("refused"));
    }
}
