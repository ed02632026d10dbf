//! Where exceptions go: span events (the default), log records, or both.
//!
//! Since semantic conventions 1.40, exceptions as span events are deprecated in favour of log
//! events named per domain (`db.client.operation.exception`, `http.server.request.exception`,
//! ...; see [`Domain::exception_event_name`]). The phased move is chosen by
//! `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` ([`ExceptionSignal::from_env`]) or the builders'
//! `exception_signal(..)`:
//!
//! | signal | span event `exception` | log record |
//! |---|---|---|
//! | [`ExceptionSignal::SpanEvent`] (default, variable unset) | yes | no |
//! | [`ExceptionSignal::Logs`] (`logs`) | no | yes |
//! | [`ExceptionSignal::LogsDup`] (`logs/dup`) | yes | yes |
//!
//! A log record has the domain's event name, severity `WARN`, the attributes `exception.type`
//! (= `error.type`), `exception.message` (only when the failure has a message, which is never
//! raw untrusted text) and `error.type`, and the span's trace context. It goes through the
//! OpenTelemetry Logs API to the logger provider given to the builder (`logger_provider(..)`),
//! else the one installed with [`set_logger_provider`] (the `opentelemetry` crate 0.33 has no
//! global logger provider), else nowhere. Only failures marked
//! [`with_exception`](crate::Failure::with_exception) are exceptions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use opentelemetry::logs::{LogRecord, Logger, LoggerProvider, Severity};
use opentelemetry::trace::SpanContext;
use opentelemetry::{InstrumentationScope, Key, Value};

#[cfg(doc)]
use crate::conventions::Domain;

/// The environment variable that chooses the exception signal.
pub const EXCEPTION_SIGNAL_ENV: &str = "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN";

/// Where exceptions are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum ExceptionSignal {
    /// An `exception` span event (the default while the opt-in variable is unset).
    #[default]
    SpanEvent,
    /// A log record per exception, no span event (`logs`).
    Logs,
    /// Both the span event and the log record (`logs/dup`).
    LogsDup,
}

impl ExceptionSignal {
    /// Parses a value of `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`: a comma-separated list in which `logs/dup`
    /// wins over `logs`; anything else is [`ExceptionSignal::SpanEvent`].
    ///
    /// ```
    /// use otel_rpc::ExceptionSignal;
    /// assert_eq!(ExceptionSignal::parse("logs"), ExceptionSignal::Logs);
    /// assert_eq!(ExceptionSignal::parse("http, logs/dup"), ExceptionSignal::LogsDup);
    /// assert_eq!(ExceptionSignal::parse(""), ExceptionSignal::SpanEvent);
    /// ```
    pub fn parse(value: &str) -> Self {
        let mut signal = ExceptionSignal::SpanEvent;
        for item in value.split(',').map(str::trim) {
            if item.eq_ignore_ascii_case("logs/dup") {
                return ExceptionSignal::LogsDup;
            }
            if item.eq_ignore_ascii_case("logs") {
                signal = ExceptionSignal::Logs;
            }
        }
        signal
    }

    /// The signal chosen by `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` (unset: [`ExceptionSignal::SpanEvent`]).
    pub fn from_env() -> Self {
        std::env::var(EXCEPTION_SIGNAL_ENV)
            .map(|v| Self::parse(&v))
            .unwrap_or_default()
    }

    /// `true` when an `exception` span event is recorded.
    pub fn span_event(self) -> bool {
        matches!(self, ExceptionSignal::SpanEvent | ExceptionSignal::LogsDup)
    }

    /// `true` when a log record is emitted.
    pub fn logs(self) -> bool {
        matches!(self, ExceptionSignal::Logs | ExceptionSignal::LogsDup)
    }
}

/// An object-safe face of a Logs API [`Logger`], for exception records.
pub(crate) trait ExceptionLogger: Send + Sync {
    fn emit(
        &self,
        event_name: &'static str,
        span: &SpanContext,
        attributes: &mut dyn Iterator<Item = (Key, Value)>,
    );
}

struct LoggerAdapter<L>(L);

impl<L> ExceptionLogger for LoggerAdapter<L>
where
    L: Logger + Send + Sync,
{
    fn emit(
        &self,
        event_name: &'static str,
        span: &SpanContext,
        attributes: &mut dyn Iterator<Item = (Key, Value)>,
    ) {
        if !self
            .0
            .event_enabled(Severity::Warn, crate::conventions::SCOPE, Some(event_name))
        {
            return;
        }
        let mut record = self.0.create_log_record();
        record.set_event_name(event_name);
        record.set_timestamp(SystemTime::now());
        record.set_severity_number(Severity::Warn);
        record.set_severity_text("WARN");
        for (key, value) in attributes {
            record.add_attribute(key, value_to_any(value));
        }
        if span.is_valid() {
            record.set_trace_context(span.trace_id(), span.span_id(), Some(span.trace_flags()));
        }
        self.0.emit(record);
    }
}

fn value_to_any(v: Value) -> opentelemetry::logs::AnyValue {
    use opentelemetry::logs::AnyValue;
    match v {
        Value::Bool(b) => AnyValue::Boolean(b),
        Value::I64(i) => AnyValue::Int(i),
        Value::F64(f) => AnyValue::Double(f),
        Value::String(s) => AnyValue::String(s),
        other => AnyValue::String(other.to_string().into()),
    }
}

/// Builds the exception logger of a recorder from its scope.
pub(crate) type SharedLoggerFactory =
    Arc<dyn Fn(InstrumentationScope) -> Arc<dyn ExceptionLogger> + Send + Sync>;

/// A factory for `provider`'s loggers.
pub(crate) fn logger_factory<P>(provider: P) -> SharedLoggerFactory
where
    P: LoggerProvider + Send + Sync + 'static,
    P::Logger: Send + Sync + 'static,
{
    Arc::new(move |scope| {
        let logger: Arc<dyn ExceptionLogger> =
            Arc::new(LoggerAdapter(provider.logger_with_scope(scope)));
        logger
    })
}

static GLOBAL_LOGGER: RwLock<Option<SharedLoggerFactory>> = RwLock::new(None);
/// Bumped by every [`set_logger_provider`], so recorders notice it without taking the lock.
static GLOBAL_LOGGER_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Installs the process-wide logger provider for exception log records, used by recorders
/// without their own `logger_provider(..)`, including those built before (the `opentelemetry`
/// crate 0.33 has no global logger provider, so install yours here too).
///
/// ```
/// let provider = opentelemetry_sdk::logs::SdkLoggerProvider::builder().build();
/// otel_rpc::set_logger_provider(provider);
/// ```
pub fn set_logger_provider<P>(provider: P)
where
    P: LoggerProvider + Send + Sync + 'static,
    P::Logger: Send + Sync + 'static,
{
    let factory = logger_factory(provider);
    let mut g = GLOBAL_LOGGER
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *g = Some(factory);
    GLOBAL_LOGGER_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The factory installed with [`set_logger_provider`], if any, with its generation.
pub(crate) fn global_logger_factory() -> (u64, Option<SharedLoggerFactory>) {
    let g = GLOBAL_LOGGER
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (GLOBAL_LOGGER_GENERATION.load(Ordering::Relaxed), g.clone())
}

/// How many times [`set_logger_provider`] was called.
pub(crate) fn global_logger_generation() -> u64 {
    GLOBAL_LOGGER_GENERATION.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_values() {
        for (v, want) in [
            ("logs", ExceptionSignal::Logs),
            ("LOGS", ExceptionSignal::Logs),
            ("logs/dup", ExceptionSignal::LogsDup),
            ("logs,logs/dup", ExceptionSignal::LogsDup),
            (" logs ", ExceptionSignal::Logs),
            ("span", ExceptionSignal::SpanEvent),
            ("logsdup", ExceptionSignal::SpanEvent),
        ] {
            assert_eq!(ExceptionSignal::parse(v), want, "{v:?}");
        }
        assert!(ExceptionSignal::SpanEvent.span_event() && !ExceptionSignal::SpanEvent.logs());
        assert!(!ExceptionSignal::Logs.span_event() && ExceptionSignal::Logs.logs());
        assert!(ExceptionSignal::LogsDup.span_event() && ExceptionSignal::LogsDup.logs());
    }
}
