//! How a layer turns what it observed (a response status, a gRPC code, a panic, a service
//! error) into an [`Outcome`]: the conventions' default classification per side, overridden
//! per outcome by the user's rule.

use std::any::Any;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute;

use crate::{Failure, Outcome, Recording};

/// Which end of a call a layer traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Extracts the parent from the request; only server faults are errors.
    Server,
    /// Injects its context into the request; every failed response is an error.
    Client,
}

/// A response code as observed by a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// An HTTP status code.
    Http(u16),
    /// A gRPC status code.
    #[cfg(feature = "grpc")]
    Grpc(u32),
}

/// `error.type` of a service, transport or body error: a fixed value, because an arbitrary
/// error type has no stable classification (its Rust type name changes with compiler versions
/// and hides behind `Box<dyn Error>`), and its text is untrusted.
pub(crate) const OTHER_ERROR: &str = OTHER;

/// The value of an attribute whose real value is outside its closed set.
pub(crate) const OTHER: &str = "_OTHER";

/// `error.type` of a handler panic.
pub(crate) const PANIC_ERROR: &str = "panic";

/// The status description of a handler panic; the panic's own text is never recorded by
/// default (it is application text and may hold values).
pub(crate) const PANIC_DESCRIPTION: &str = "the handler panicked";

/// What every service, future and body of one layer share to end their spans.
#[derive(Debug)]
pub(crate) struct Rules {
    pub(crate) side: Side,
    /// Whether handler panics are caught (recorded, then resumed).
    pub(crate) catch_panics: bool,
}

impl Rules {
    /// `true` when `code` makes the span an error under the conventions' default rule.
    fn default_is_error(&self, code: Code) -> bool {
        match (self.side, code) {
            (Side::Server, Code::Http(status)) => status >= 500,
            (Side::Client, Code::Http(status)) => status >= 400,
            #[cfg(feature = "grpc")]
            (Side::Server, Code::Grpc(code)) => crate::grpc::is_server_error(code),
            #[cfg(feature = "grpc")]
            (Side::Client, Code::Grpc(code)) => code != 0,
        }
    }

    /// Records the response code on span and metric and classifies it.
    pub(crate) fn conclude(&self, recording: &mut Recording, code: Code) -> Outcome<'static> {
        let error_type = match code {
            Code::Http(status) => {
                recording.set_metric_attribute(KeyValue::new(
                    attribute::HTTP_RESPONSE_STATUS_CODE,
                    i64::from(status),
                ));
                ErrorType::Http(status)
            }
            #[cfg(feature = "grpc")]
            Code::Grpc(code) => {
                let name = crate::grpc::code_name(code);
                recording
                    .set_metric_attribute(KeyValue::new(attribute::RPC_RESPONSE_STATUS_CODE, name));
                ErrorType::Static(name)
            }
        };
        if self.default_is_error(code) {
            Outcome::Failure(Failure::new(error_type.into_string()))
        } else {
            Outcome::Success
        }
    }

    /// The failure of a service that returned an error instead of a response.
    pub(crate) fn service_error<E>(&self, error_type: &'static str, _error: &E) -> Failure<'static>
    where
        E: std::fmt::Display + ?Sized,
    {
        Failure::new(error_type)
    }

    /// The failure of a handler that panicked with `payload`.
    pub(crate) fn panic(&self, _payload: &(dyn Any + Send)) -> Failure<'static> {
        Failure::new(PANIC_ERROR).with_message(PANIC_DESCRIPTION)
    }
}

/// `error.type` of a classified response: the status code (HTTP) or code name (gRPC).
enum ErrorType {
    Http(u16),
    #[cfg(feature = "grpc")]
    Static(&'static str),
}

impl ErrorType {
    fn into_string(self) -> std::borrow::Cow<'static, str> {
        match self {
            ErrorType::Http(status) => std::borrow::Cow::Owned(status.to_string()),
            #[cfg(feature = "grpc")]
            ErrorType::Static(name) => std::borrow::Cow::Borrowed(name),
        }
    }
}
