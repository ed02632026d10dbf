//! How an operation ended: [`Outcome`] and the details of a [`Failure`].

use std::borrow::Cow;

/// How an operation ended, as given to [`Recording::end`](crate::Recording::end).
///
/// * [`Outcome::Success`] leaves the span status `Unset`: the OpenTelemetry specification says
///   instrumentation libraries must not set `Ok`.
/// * [`Outcome::Failure`] sets status `Error` with the message as description, adds an
///   `exception` event, and sets `error.type` (plus the optional response status code
///   attribute, e.g. `db.response.status_code`) on the span *and* on the duration metric.
/// * [`Outcome::Cancelled`] is what a [`Recording`](crate::Recording) dropped without an explicit
///   end reports: the caller stopped waiting (a timeout, a `select!`, a dropped future) before
///   the operation completed. It is recorded as an error of type [`CANCELLED_ERROR_TYPE`], because
///   the caller never got the result it asked for.
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

/// `error.type` recorded for [`Outcome::Cancelled`].
pub const CANCELLED_ERROR_TYPE: &str = "cancelled";

impl<'a> Outcome<'a> {
    /// A failure of the given `error.type` (a low-cardinality class such as a SQLSTATE, a
    /// server error code or an error kind name).
    pub fn failure(error_type: impl Into<Cow<'a, str>>) -> Self {
        Outcome::Failure(Failure::new(error_type))
    }

    /// A failure described by a Rust error: `error.type` is the error's fully qualified type name and the
    /// message its `Display` text.
    pub fn from_error<E: std::error::Error + ?Sized>(err: &E) -> Outcome<'static> {
        Outcome::Failure(Failure::from_error(err))
    }

    /// `true` for [`Outcome::Success`].
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success)
    }
}

/// The details of a failed operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure<'a> {
    /// Low-cardinality error class, recorded as `error.type` on span and metric.
    pub error_type: Cow<'a, str>,
    /// Protocol status code (e.g. SQLSTATE `23505`, Mongo code `11000`, Redis `WRONGTYPE`),
    /// recorded under the recorder's status code attribute when set.
    pub status_code: Option<Cow<'a, str>>,
    /// Human readable message; the span status description and `exception.message`.
    pub message: Option<Cow<'a, str>>,
}

impl<'a> Failure<'a> {
    /// A failure of the given `error.type` with no status code and no message.
    pub fn new(error_type: impl Into<Cow<'a, str>>) -> Self {
        Failure {
            error_type: error_type.into(),
            status_code: None,
            message: None,
        }
    }

    /// A failure from a Rust error value: its short type name and `Display` text.
    pub fn from_error<E: std::error::Error + ?Sized>(err: &E) -> Failure<'static> {
        Failure {
            error_type: Cow::Borrowed(short_type_name::<E>()),
            status_code: None,
            message: Some(Cow::Owned(err.to_string())),
        }
    }

    /// Sets the protocol status code.
    #[must_use]
    pub fn with_status_code(mut self, code: impl Into<Cow<'a, str>>) -> Self {
        self.status_code = Some(code.into());
        self
    }

    /// Sets the message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<Cow<'a, str>>) -> Self {
        self.message = Some(message.into());
        self
    }
}

impl<'a> From<Failure<'a>> for Outcome<'a> {
    fn from(f: Failure<'a>) -> Self {
        Outcome::Failure(f)
    }
}

/// The fully qualified type name without generic parameters, as the semantic conventions ask
/// for `error.type` when no better class is known (e.g. `std::io::error::Error`).
fn short_type_name<E: ?Sized>() -> &'static str {
    let full = std::any::type_name::<E>();
    full.split('<').next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_drop_generics() {
        assert_eq!(short_type_name::<std::io::Error>(), "std::io::error::Error");
        assert_eq!(short_type_name::<Vec<u8>>(), "alloc::vec::Vec");
    }

    #[test]
    fn from_error_keeps_message() {
        let e = std::io::Error::other("boom");
        let f = Failure::from_error(&e);
        assert_eq!(f.message.as_deref(), Some("boom"));
        assert_eq!(f.error_type, "std::io::error::Error");
    }
}
