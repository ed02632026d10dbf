//! The metric side of a prepared operation (`crate::prepared`): its admitted attributes and
//! the duration histogram bound to them.

#[cfg(feature = "bound-instruments")]
use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Histogram;

/// The metric attributes of a prepared operation and, with the `bound-instruments` feature,
/// the duration histogram bound to them at its first point (as the pool histograms are):
/// every later point of the statement skips the SDK's hashing and lookup of its attributes.
/// Binding at the first point, not when prepared, exports no empty series for a statement
/// that never ends. Only a histogram of the SDK's meter provider given explicitly is bound
/// (`Resolved::duration_binds`): another `MeterProvider` may not implement binding (the API's
/// default drops bound points), a global one may be replaced; those are recorded with the
/// attributes.
pub(crate) struct PreparedMetric {
    pub(crate) attributes: Box<[KeyValue]>,
    #[cfg(feature = "bound-instruments")]
    bound: OnceLock<opentelemetry::metrics::BoundHistogram<f64>>,
}

impl PreparedMetric {
    pub(crate) fn new(attributes: Box<[KeyValue]>) -> Self {
        PreparedMetric {
            attributes,
            #[cfg(feature = "bound-instruments")]
            bound: OnceLock::new(),
        }
    }

    /// Records `value` on `histogram`, through the bound histogram when `binds`.
    pub(crate) fn record(&self, histogram: &Histogram<f64>, binds: bool, value: f64) {
        #[cfg(feature = "bound-instruments")]
        if binds {
            self.bound
                .get_or_init(|| histogram.bind(&self.attributes))
                .record(value);
            return;
        }
        #[cfg(not(feature = "bound-instruments"))]
        let _ = binds;
        histogram.record(value, &self.attributes);
    }
}
