//! How a layer turns what it observed (a response status, a gRPC code, a panic, a service
//! error) into an [`Outcome`]: the conventions' default classification per side, overridden
//! per outcome by the user's rule.

use std::any::Any;
use std::borrow::Cow;

use opentelemetry::KeyValue;

use crate::classify::{Observed, Verdict};
use crate::outcome::{Failure, Outcome};
use crate::recorder::SpanRecorder;
use crate::recording::Recording;
use crate::untrusted::ErrorTextMode;
use crate::untrusted::OTHER;

/// Which end of a call a layer traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Extracts the parent from the request; only server faults are errors.
    Server,
    /// Injects its context into the request; every failed response is an error.
    Client,
}

/// `error.type` of a service, transport or body error: a fixed value, because an arbitrary
/// error type has no stable classification (its Rust type name changes with compiler versions
/// and hides behind `Box<dyn Error>`), and its text is untrusted.
pub(crate) const OTHER_ERROR: &str = OTHER;

/// `error.type` of a handler panic.
pub(crate) const PANIC_ERROR: &str = "panic";

/// The status description of a handler panic; the panic's own text is never recorded by
/// default (it is application text and may hold values).
pub(crate) const PANIC_DESCRIPTION: &str = "the handler panicked";

/// What every service, future and body of one layer share to end their spans.
#[derive(Debug)]
pub(crate) struct Rules {
    /// The layer's recorder: its classification (the user's rule, else the default).
    pub(crate) recorder: SpanRecorder,
    /// Whether handler panics are caught (recorded, then resumed).
    pub(crate) catch_panics: bool,
    /// Whether peer and application error text is recorded (scrubbed) or not at all.
    pub(crate) error_text: ErrorTextMode,
    /// The headers / metadata recorded on the span ([`crate::capture`]).
    pub(crate) capture: crate::capture::HeaderCapture,
    /// The duration metric's bound series, when the recorder's histogram may be bound.
    pub(crate) series: Option<super::series::BoundSeries>,
}

impl Rules {
    /// Records the response `code` attribute on span and metric and classifies what was
    /// `observed`: the user's rule ([`classify`](crate::InstrumentationOptions::classify)) when
    /// it decides, else the conventions' default for the recorder's side (each protocol's
    /// rule, see [`Observed`]). `error_type` names the failure (the status code, the code
    /// name) and is only called for one.
    pub(crate) fn conclude(
        &self,
        recording: &mut Recording,
        code: KeyValue,
        observed: Observed<'_>,
        error_type: impl FnOnce() -> Cow<'static, str>,
    ) -> Outcome<'static> {
        recording.set_metric_attribute(code);
        if self.recorder.verdict(&observed) == Verdict::Error {
            Outcome::Failure(Failure::new(error_type()))
        } else {
            // The point of a success has its attributes complete now.
            if let Some(series) = &self.series {
                recording.share_metric_series(|attributes| series.get(attributes));
            }
            Outcome::Success
        }
    }

    /// The failure of a service that returned an error instead of a response: a real error,
    /// so an exception; its text only when opted in (scrubbed).
    pub(crate) fn service_error<E>(&self, error_type: &'static str, error: &E) -> Failure<'static>
    where
        E: std::fmt::Display + ?Sized,
    {
        let failure = Failure::new(error_type).with_exception();
        match self.error_text {
            ErrorTextMode::Off => failure,
            mode => failure.with_untrusted_message(&error.to_string(), mode),
        }
    }

    /// The failure of a handler that panicked with `payload`: a fixed description, or, when
    /// opted in, the panic's text scrubbed.
    pub(crate) fn panic(&self, payload: &(dyn Any + Send)) -> Failure<'static> {
        let failure = Failure::new(PANIC_ERROR)
            .with_message(PANIC_DESCRIPTION)
            .with_exception();
        match panic_text(payload) {
            Some(text) if self.error_text != ErrorTextMode::Off => {
                failure.with_untrusted_message(text, self.error_text)
            }
            _ => failure,
        }
    }

    /// Adds the peer's message of a classified failure, when opted in (scrubbed).
    #[cfg(feature = "grpc")]
    pub(crate) fn with_peer_text(
        &self,
        outcome: Outcome<'static>,
        text: Option<&str>,
    ) -> Outcome<'static> {
        match (outcome, text) {
            (Outcome::Failure(f), Some(text)) if self.error_text != ErrorTextMode::Off => {
                Outcome::Failure(f.with_untrusted_message(text, self.error_text))
            }
            (outcome, _) => outcome,
        }
    }
}

/// The text of a panic payload (`&str` or `String`).
fn panic_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}
