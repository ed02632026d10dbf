//! [`RecorderState`]: what a [`SpanRecorder`](crate::SpanRecorder) and each of its
//! [`Recording`](crate::Recording)s share (one `Arc`, cloned once per operation).

use opentelemetry::Key;
use opentelemetry::trace::SpanKind;

use crate::classify::Classifier;
use crate::conventions::Domain;
use crate::exception::ExceptionSignal;
use crate::metric::{DistinctValues, DurationMetric};
use crate::propagation::SharedPropagator;
use crate::providers::Resolver;
use crate::untrusted::ErrorTextMode;

/// The settings and instruments of one recorder.
pub(crate) struct RecorderState {
    pub(crate) kind: SpanKind,
    /// Tracer, histogram and logger, following the global providers when none was given.
    pub(crate) providers: Resolver,
    /// Whether the duration histogram is recorded.
    pub(crate) metrics: bool,
    pub(crate) propagator: SharedPropagator,
    pub(crate) metric: DurationMetric,
    pub(crate) status_code_key: Option<Key>,
    /// Which of the database keys (`metric::DB_KEYS`) the metric allows (bit i = key i).
    pub(crate) db_metric_mask: u16,
    /// The first distinct values of the free-text database metric attributes (see
    /// [`DurationMetric::max_distinct_values`]); `None` when no such key is on the metric.
    pub(crate) db_distinct: Option<DistinctValues>,
    pub(crate) domain: Domain,
    pub(crate) classifier: Option<Classifier>,
    pub(crate) exception_signal: ExceptionSignal,
    pub(crate) error_text: ErrorTextMode,
    /// No span for an operation whose parent context holds no span (its metric is recorded).
    pub(crate) require_parent: bool,
    /// The previous attribute names written beside the current ones (`*/dup` modes).
    pub(crate) previous: Option<crate::semconv_mode::PreviousNames>,
}
