//! `OTEL_PROPAGATORS`: the OpenTelemetry environment variable naming the propagators.
//!
//! The Rust SDK does not read it by itself (nor do `opentelemetry-sdk` / `opentelemetry-otlp`
//! 0.33 offer a helper), so a service maps it once at start-up and installs the result
//! globally; every layer and adapter of this workspace then uses it through
//! [`default_propagator`](super::default_propagator):
//!
//! ```
//! use opentelemetry::global;
//! use otel_rpc::propagator_from_env;
//!
//! // OTEL_PROPAGATORS=tracecontext,baggage (also the default when unset or empty)
//! global::set_text_map_propagator(propagator_from_env());
//! ```
//!
//! Built in: `tracecontext`, `baggage` and `none`. Other names (`b3`, `b3multi`, `jaeger`,
//! `xray`, `ottrace`) need a crate of their own; map them with
//! [`propagator_from_env_with`], e.g. B3 from `opentelemetry-zipkin` (0.33 marks that crate
//! deprecated with its exporter, but its propagator is the upstream B3 one and works):
//!
//! ```ignore
//! use opentelemetry_zipkin::{B3Encoding, Propagator};
//! let propagator = otel_rpc::testing::propagator_from_env_with(|name| match name {
//!     "b3" => Some(Box::new(Propagator::with_encoding(B3Encoding::SingleHeader))),
//!     "b3multi" => Some(Box::new(Propagator::with_encoding(B3Encoding::MultipleHeader))),
//!     _ => None,
//! });
//! opentelemetry::global::set_text_map_propagator(propagator);
//! ```

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

/// The environment variable read by [`propagator_from_env`].
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";

/// The value used when `OTEL_PROPAGATORS` is unset or empty.
pub const DEFAULT_PROPAGATORS: &str = "tracecontext,baggage";

/// A boxed propagator, as a composite holds them.
pub type BoxedPropagator = Box<dyn TextMapPropagator + Send + Sync>;

/// The propagators `OTEL_PROPAGATORS` names (built-in names only).
pub fn propagator_from_env() -> TextMapCompositePropagator {
    propagator_from_env_with(|_| None)
}

/// The propagators `OTEL_PROPAGATORS` names; `extra` maps the names that are not built in.
pub fn propagator_from_env_with(
    extra: impl Fn(&str) -> Option<BoxedPropagator>,
) -> TextMapCompositePropagator {
    let value = std::env::var(OTEL_PROPAGATORS).unwrap_or_default();
    propagator_from_names(&value, extra)
}

/// The composite of the comma-separated propagator `names`, in order (the format of
/// `OTEL_PROPAGATORS`; names are trimmed and compared case-insensitively, repeated names
/// count once). Empty means [`DEFAULT_PROPAGATORS`]; `none` anywhere means no propagation
/// (an empty composite, which `DefaultPropagator` honours). A
/// name that is neither built in (`tracecontext`, `baggage`) nor mapped by `extra` is skipped
/// and counted in [`health::swallowed_errors`](crate::health::swallowed_errors).
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use otel_rpc::testing::propagator_from_names;
///
/// let p = propagator_from_names("baggage, TraceContext", |_| None);
/// let mut fields: Vec<&str> = p.fields().collect();
/// fields.sort();
/// assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);
/// assert_eq!(propagator_from_names("none,tracecontext", |_| None).fields().count(), 0);
/// ```
pub fn propagator_from_names(
    names: &str,
    extra: impl Fn(&str) -> Option<BoxedPropagator>,
) -> TextMapCompositePropagator {
    let names = if names.trim().is_empty() {
        DEFAULT_PROPAGATORS
    } else {
        names
    };
    let mut seen: Vec<String> = Vec::new();
    let mut propagators: Vec<BoxedPropagator> = Vec::new();
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let name = name.to_ascii_lowercase();
        if name == "none" {
            return TextMapCompositePropagator::new(Vec::new());
        }
        if seen.contains(&name) {
            continue;
        }
        let propagator: Option<BoxedPropagator> = match name.as_str() {
            "tracecontext" => Some(Box::new(TraceContextPropagator::new())),
            "baggage" => Some(Box::new(BaggagePropagator::new())),
            other => extra(other),
        };
        match propagator {
            Some(p) => propagators.push(p),
            None => crate::health::count_swallowed_error(),
        }
        seen.push(name);
    }
    TextMapCompositePropagator::new(propagators)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_are_skipped_and_counted() {
        let before = crate::health::swallowed_errors();
        let p = propagator_from_names("xray,tracecontext,tracecontext", |_| None);
        let mut fields: Vec<&str> = p.fields().collect();
        fields.sort();
        assert_eq!(fields, ["traceparent", "tracestate"]);
        assert!(crate::health::swallowed_errors() > before);
    }

    #[test]
    fn empty_means_the_default_and_extra_maps_the_rest() {
        assert_eq!(propagator_from_names(" ", |_| None).fields().count(), 3);
        let p = propagator_from_names("custom", |name| {
            (name == "custom").then(|| Box::new(BaggagePropagator::new()) as BoxedPropagator)
        });
        assert_eq!(p.fields().collect::<Vec<_>>(), ["baggage"]);
    }
}
