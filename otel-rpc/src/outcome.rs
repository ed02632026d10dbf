//! How an operation ended: [`Outcome`] and the details of a [`Failure`].

use std::borrow::Cow;

use crate::untrusted::{DEFAULT_MAX_ERROR_TEXT_LEN, ErrorTextMode, OTHER, scrub};

/// How an operation ended, as given to [`Recording::end`](crate::Recording::end).
///
/// * [`Outcome::Success`] leaves the span status `Unset`: the OpenTelemetry specification says
///   instrumentation libraries must not set `Ok`.
/// * [`Outcome::Failure`] sets status `Error` and `error.type` (plus the optional response
///   status code attribute, e.g. `db.response.status_code`) on the span *and* on the duration
///   metric. The status description is the failure's [`message`](Failure::message) when it has
///   one, else empty (it never repeats `error.type`). An exception (span event or log record, see
///   [`ExceptionSignal`](crate::exception::ExceptionSignal)) is recorded only for failures
///   marked [`with_exception`](Failure::with_exception): a response code is not an exception.
/// * [`Outcome::Cancelled`] is what a [`Recording`](crate::Recording) dropped without an explicit
///   end reports: the caller stopped waiting (a timeout, a `select!`, a dropped future) before
///   the operation completed. It is recorded as a failure of type [`Outcome::CANCELLED_ERROR_TYPE`], with
///   no exception and no description, because the caller never got the result it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome<'a> {
    /// The operation succeeded; the span status stays `Unset`.
    Success,
    /// The operation failed.
    Failure(Failure<'a>),
    /// The caller dropped the operation before it completed.
    Cancelled,
}

impl Outcome<'_> {
    /// `error.type` recorded for [`Outcome::Cancelled`].
    pub const CANCELLED_ERROR_TYPE: &'static str = "cancelled";
}

impl<'a> Outcome<'a> {
    /// A classified failure of the given `error.type` (a low-cardinality class such as a
    /// SQLSTATE, a server error code or an error kind name), with no exception.
    pub fn failure(error_type: impl Into<Cow<'a, str>>) -> Self {
        Outcome::Failure(Failure::new(error_type))
    }

    /// A failure described by a Rust error value: see [`Failure::from_error`].
    pub fn from_error<E: std::error::Error + ?Sized>(err: &E) -> Outcome<'static> {
        Outcome::Failure(Failure::from_error(err))
    }

    /// `true` for [`Outcome::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// The details of a failed operation.
///
/// Build it from a classification, never from untrusted text: `error_type` and
/// `status_code` must come from closed sets (a SQLSTATE, a gRPC code name, an error kind the
/// adapter defines, [`OTHER`]); `message` holds either a fixed description written by the
/// adapter or, only under the [`ErrorTextMode::Scrubbed`] opt-in, scrubbed server text
/// ([`with_untrusted_message`](Self::with_untrusted_message)).
///
/// ```
/// use otel_rpc::{ErrorTextMode, Failure};
///
/// // A response code: classified, not an exception.
/// let f = Failure::new("23505").with_status_code("23505");
/// assert!(!f.exception);
///
/// // A driver / transport error: an exception, whose server text stays out by default.
/// let server_text = "duplicate key value (email)=(alice@example.com)";
/// let f = Failure::new("io").with_exception().with_untrusted_message(server_text, ErrorTextMode::Off);
/// assert!(f.exception);
/// assert_eq!(f.message, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure<'a> {
    /// Low-cardinality error class, recorded as `error.type` on span and metric.
    pub error_type: Cow<'a, str>,
    /// Protocol status code (e.g. SQLSTATE `23505`, Mongo code `11000`, Redis `WRONGTYPE`),
    /// recorded under the recorder's status code attribute when set.
    pub status_code: Option<Cow<'a, str>>,
    /// The span status description and `exception.message`, when set: a fixed description,
    /// or scrubbed text under the [`ErrorTextMode::Scrubbed`] opt-in. Never raw untrusted text.
    pub message: Option<Cow<'a, str>>,
    /// `true` for a real error (driver, transport, handler error) rather than a classified
    /// response: only then is an exception recorded.
    pub exception: bool,
}

impl<'a> Failure<'a> {
    /// A classified failure of the given `error.type` with no status code, no message and no
    /// exception (a response code, a database error code).
    pub fn new(error_type: impl Into<Cow<'a, str>>) -> Self {
        Failure {
            error_type: error_type.into(),
            status_code: None,
            message: None,
            exception: false,
        }
    }

    /// A failure from a Rust error value whose class is not known: `error.type` [`OTHER`]
    /// (`_OTHER`), an exception, and no message (an error's `Display` text is application
    /// text and may hold any value). Give a better class with [`Failure::new`] and
    /// [`with_exception`](Self::with_exception) when the error type tells more.
    pub fn from_error<E: std::error::Error + ?Sized>(_err: &E) -> Failure<'static> {
        Failure::new(OTHER).with_exception()
    }

    /// Sets the protocol status code.
    #[must_use]
    pub fn with_status_code(mut self, code: impl Into<Cow<'a, str>>) -> Self {
        self.status_code = Some(code.into());
        self
    }

    /// Sets the message: only a fixed description written by the adapter (never text from a
    /// server, a peer or an application error: use
    /// [`with_untrusted_message`](Self::with_untrusted_message) for that).
    #[must_use]
    pub fn with_message(mut self, message: impl Into<Cow<'a, str>>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the message from untrusted text according to `mode`: [`ErrorTextMode::Off`] leaves
    /// the failure unchanged, [`ErrorTextMode::Scrubbed`] sets the message to
    /// [`scrub`]`(text, DEFAULT_MAX_ERROR_TEXT_LEN)`.
    #[must_use]
    pub fn with_untrusted_message(mut self, text: &str, mode: ErrorTextMode) -> Self {
        match mode {
            ErrorTextMode::Off => {}
            ErrorTextMode::Scrubbed => {
                self.message = Some(Cow::Owned(scrub(text, DEFAULT_MAX_ERROR_TEXT_LEN)));
            }
        }
        self
    }

    /// Marks the failure as a real error (driver, transport or handler error), recorded as an
    /// exception per the recorder's exception signal.
    #[must_use]
    pub fn with_exception(mut self) -> Self {
        self.exception = true;
        self
    }
}

impl<'a> From<Failure<'a>> for Outcome<'a> {
    fn from(f: Failure<'a>) -> Self {
        Outcome::Failure(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_error_is_other_with_exception_and_no_message() {
        let e = std::io::Error::other("boom secret");
        let f = Failure::from_error(&e);
        assert_eq!(f.error_type, OTHER);
        assert_eq!(f.message, None);
        assert!(f.exception);
        assert_eq!(Outcome::from_error(&e), Outcome::Failure(f));
    }

    #[test]
    fn new_is_no_exception() {
        let f = Failure::new("404");
        assert!(!f.exception && f.message.is_none() && f.status_code.is_none());
    }

    #[test]
    fn untrusted_message_per_mode() {
        let text = "value 'secret' for id 42";
        let off = Failure::new("x").with_untrusted_message(text, ErrorTextMode::Off);
        assert_eq!(off.message, None);
        let on = Failure::new("x").with_untrusted_message(text, ErrorTextMode::Scrubbed);
        assert_eq!(on.message.as_deref(), Some("value ? for id ?"));
        let long = "word ".repeat(200);
        let on = Failure::new("x").with_untrusted_message(&long, ErrorTextMode::Scrubbed);
        assert!(on.message.unwrap().len() <= DEFAULT_MAX_ERROR_TEXT_LEN);
    }
}
