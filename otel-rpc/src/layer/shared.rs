//! What every service, future and body of one built layer share: the recorder, the switch,
//! the user's callbacks and the protocol's options.

use std::borrow::Cow;
use std::sync::Arc;

use http::request::Parts;
use opentelemetry::KeyValue;

use super::rules::Rules;
use crate::recorder::SpanRecorder;

/// Names the span of a request (replaces the layer's default name).
pub(crate) type SpanNameFn = Arc<dyn Fn(&Parts) -> Cow<'static, str> + Send + Sync>;
/// Decides whether a request is traced: `false` means no span and no metric point.
pub(crate) type FilterFn = Arc<dyn Fn(&Parts) -> bool + Send + Sync>;
/// Adds attributes of the request to its span (and, if their keys are on the metric's
/// allow-list, to the duration metric).
pub(crate) type AttributesFn = Arc<dyn Fn(&Parts, &mut Vec<KeyValue>) + Send + Sync>;

/// The callbacks of a layer.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) span_name: Option<SpanNameFn>,
    pub(crate) filter: Option<FilterFn>,
    pub(crate) attributes: Option<AttributesFn>,
}

impl Hooks {
    /// `true` unless the filter rejects the request.
    pub(crate) fn traces(&self, parts: &Parts) -> bool {
        self.filter.as_ref().is_none_or(|f| f(parts))
    }

    /// The user's span name for the request, if a span name function is set.
    pub(crate) fn span_name(&self, parts: &Parts) -> Option<Cow<'static, str>> {
        self.span_name.as_ref().map(|f| f(parts))
    }

    /// Appends the user's attributes for the request.
    pub(crate) fn add_attributes(&self, parts: &Parts, attributes: &mut Vec<KeyValue>) {
        if let Some(f) = &self.attributes {
            f(parts, attributes);
        }
    }

    /// `true` when a callback needs to see the request.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn any(&self) -> bool {
        self.span_name.is_some() || self.filter.is_some() || self.attributes.is_some()
    }
}

/// What a built layer shares between its services.
pub struct Shared<O> {
    pub(crate) recorder: SpanRecorder,
    /// `false`: a pass-through (no span, no metric, no propagation).
    pub(crate) enabled: bool,
    pub(crate) hooks: Hooks,
    pub(crate) rules: Arc<Rules>,
    pub(crate) options: O,
}
