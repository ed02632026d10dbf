//! [`PreparedOperation`]: what is the same for every execution of one statement or command on
//! one recorder, checked, bounded and admitted once, then cloned per operation as references.
//!
//! A statement's summary, names, span name and metric attributes do not change between its
//! executions, but [`SpanRecorder::start_db`] checks and copies them every time: the 255-byte
//! bounds and the name-shape check of every field, the distinct-values admission of the four
//! free-text metric values (a read lock and four hashes), the span name `String` and the metric
//! `Vec`. An adapter that caches per statement (otel-sqlx's statement cache) or per command
//! (otel-redis' command table) keeps a [`PreparedOperation`] there instead and starts each
//! execution with [`SpanRecorder::start_prepared_db`]: the span attributes are cloned from the
//! checked set (reference-count bumps, one vector), the metric attributes are shared (no
//! vector at all unless the end adds a status code or `error.type`), the span name is static.
//!
//! Nothing is trusted that `start_db` checks: a prepared operation is built by the same rules
//! ([`DbOperation::attributes_with_metric`], [`DbOperation::span_name`]) from the same
//! fields, and its metric values were admitted by the recorder that prepared it (sets only grow,
//! so an admission stays valid; a value refused once stays `_OTHER`). A prepared operation used
//! with another recorder is admitted again by that recorder's sets, per execution.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock, PoisonError, RwLock, Weak};
use std::time::SystemTime;

use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute;

use crate::db::{DbOperation, QueryText};
use crate::metric::PreparedMetric;
use crate::recorder::SpanRecorder;
use crate::recording::{MetricAttrs, Recording};
use crate::state::RecorderState;
use crate::untrusted::{MAX_NAME_LEN, cap_attribute};

/// The checked, bounded parts of a database operation that are the same for every execution,
/// prepared by [`SpanRecorder::prepare_db`] and started by
/// [`SpanRecorder::start_prepared_db`]. Keep it in a per-statement or per-command cache.
///
/// ```
/// use opentelemetry::Context;
/// use opentelemetry::trace::SpanKind;
/// use otel_rpc::{DbOperation, Outcome, SpanRecorder};
///
/// let recorder = SpanRecorder::builder(SpanKind::Client, "my-driver").build();
/// let op = DbOperation::new("postgresql").namespace("shop").summary("SELECT orders");
/// let prepared = recorder.prepare_db(&op, None);
/// assert_eq!(prepared.span_name(), "SELECT orders");
/// for _ in 0..3 {
///     recorder
///         .start_prepared_db(&Context::current(), None, &prepared, None)
///         .end(Outcome::Success);
/// }
/// ```
#[derive(Clone)]
pub struct PreparedOperation {
    /// The recorder whose distinct-values sets admitted `metric` (a `Weak` keeps its address
    /// from being reused while this value exists).
    recorder: Weak<RecorderState>,
    name: Cow<'static, str>,
    /// Span attributes visible to the sampler, bounded and capped.
    attributes: Arc<[KeyValue]>,
    /// `DbOperation::extra`, capped: recorded on sampled spans only.
    extra: Arc<[KeyValue]>,
    /// The metric attributes, admitted by `recorder`, and their bound histogram.
    metric: Arc<PreparedMetric>,
}

impl std::fmt::Debug for PreparedOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedOperation")
            .field("name", &self.name)
            .field("attributes", &self.attributes)
            .field("metric", &self.metric.attributes)
            .finish_non_exhaustive()
    }
}

impl PreparedOperation {
    /// The span name every execution gets (unless the start names it otherwise).
    pub fn span_name(&self) -> &str {
        &self.name
    }

    /// The span attributes visible to the sampler (bounded and capped).
    pub fn attributes(&self) -> &[KeyValue] {
        &self.attributes
    }

    /// The metric attributes, as admitted by the recorder that prepared this operation.
    pub fn metric_attributes(&self) -> &[KeyValue] {
        &self.metric.attributes
    }
}

impl SpanRecorder {
    /// Checks, bounds and admits what of `op` is the same for every execution (everything but
    /// `query_text`, which each execution gives to
    /// [`start_prepared_db`](Self::start_prepared_db)). `name` is the span name (an adapter's
    /// own naming), default [`DbOperation::span_name`]. The span name is made `&'static` once
    /// (the first 1,024 distinct names of a process, each at most `MAX_NAME_LEN` bytes, are
    /// kept for its lifetime), so a span's name costs no allocation.
    pub fn prepare_db(
        &self,
        op: &DbOperation<'_>,
        name: Option<Cow<'static, str>>,
    ) -> PreparedOperation {
        let inner = &self.inner;
        let mask = if inner.metrics {
            inner.db_metric_mask
        } else {
            0
        };
        let (mut attributes, metric) = op.attributes_with_metric(mask, inner.db_distinct.as_ref());
        attributes.iter_mut().for_each(cap_attribute);
        let mut extra = op.extra.clone();
        extra.iter_mut().for_each(cap_attribute);
        PreparedOperation {
            recorder: Arc::downgrade(inner),
            name: static_name(name.unwrap_or_else(|| op.span_name())),
            attributes: attributes.into(),
            extra: extra.into(),
            metric: Arc::new(PreparedMetric::new(metric.into())),
        }
    }

    /// Starts one execution of `prepared` under `parent` at `start` (`None`: now), named as
    /// prepared, with this execution's `query_text` (built only when the span is recording,
    /// capped like every attribute).
    pub fn start_prepared_db(
        &self,
        parent: &Context,
        start: Option<SystemTime>,
        prepared: &PreparedOperation,
        query_text: Option<&QueryText<'_>>,
    ) -> Recording {
        self.start_prepared_db_named(parent, start, prepared, None, 1, |add| {
            if let Some(text) = query_text.and_then(QueryText::value) {
                add(KeyValue::new(attribute::DB_QUERY_TEXT, text));
            }
        })
    }

    /// The general form of [`start_prepared_db`](Self::start_prepared_db): named `name`
    /// (`None`: the prepared name; `Some`: e.g. a user's naming hook), and `details` adds this
    /// execution's span-only attributes (its query text, connection or session ids, ...)
    /// through the function it is given, each capped like every attribute. `details` is
    /// called only when the span is recording, before the prepared `extra`; `room` is how
    /// many attributes it adds at most, reserved in the span's attribute list so that none
    /// of them reallocates it (more are still recorded).
    ///
    /// ```
    /// use opentelemetry::{Context, KeyValue};
    /// use opentelemetry::trace::SpanKind;
    /// use otel_rpc::{DbOperation, Outcome, SpanRecorder};
    ///
    /// let recorder = SpanRecorder::builder(SpanKind::Client, "my-driver").build();
    /// let prepared = recorder.prepare_db(&DbOperation::new("mongodb").summary("find orders"), None);
    /// let connection_id = 7_i64;
    /// recorder
    ///     .start_prepared_db_named(&Context::current(), None, &prepared, None, 1, |add| {
    ///         add(KeyValue::new("db.mongodb.driver_connection_id", connection_id));
    ///     })
    ///     .end(Outcome::Success);
    /// ```
    pub fn start_prepared_db_named(
        &self,
        parent: &Context,
        start: Option<SystemTime>,
        prepared: &PreparedOperation,
        name: Option<Cow<'static, str>>,
        room: usize,
        details: impl FnOnce(&mut dyn FnMut(KeyValue)),
    ) -> Recording {
        let inner = &self.inner;
        let metric = if !inner.metrics {
            MetricAttrs::default()
        } else if std::ptr::eq(prepared.recorder.as_ptr(), Arc::as_ptr(inner)) {
            MetricAttrs::Shared(Arc::clone(&prepared.metric))
        } else {
            // Prepared by another recorder: its admissions are not this recorder's.
            let mut metric: Vec<KeyValue> = prepared
                .metric
                .attributes
                .iter()
                .filter(|kv| inner.metric.allows(kv.key.as_str()))
                .cloned()
                .collect();
            if let Some(distinct) = &inner.db_distinct {
                distinct.apply_by_key(&mut metric);
            }
            MetricAttrs::Owned(metric)
        };
        let attributes = || {
            // Room for what a sampled span adds (the details, extra), so nothing reallocates.
            let mut attrs =
                Vec::with_capacity(prepared.attributes.len() + room + prepared.extra.len());
            attrs.extend(prepared.attributes.iter().cloned());
            attrs
        };
        let name = name.unwrap_or_else(|| prepared.name.clone());
        self.start_span(parent, start, name, attributes, metric, |add| {
            details(&mut *add);
            prepared.extra.iter().cloned().for_each(add);
        })
    }
}

/// How many distinct span names [`static_name`] makes `&'static` per process.
pub(crate) const MAX_STATIC_NAMES: usize = 1024;

/// `name` as a `&'static str` when it is one of the first [`MAX_STATIC_NAMES`] distinct names
/// of at most [`MAX_NAME_LEN`] bytes seen by this process (kept for its lifetime: at most
/// ~256 KiB), else `name` itself. The SDK takes a span name as `Cow<'static, str>`, so a name
/// held in a cache as shared text would otherwise be copied into a new `String` by every span.
/// Called when an operation is prepared, not per execution.
pub(crate) fn static_name(name: Cow<'static, str>) -> Cow<'static, str> {
    static NAMES: OnceLock<RwLock<Names>> = OnceLock::new();
    let Cow::Owned(owned) = &name else {
        return name;
    };
    if owned.len() > MAX_NAME_LEN {
        return name;
    }
    let names = NAMES.get_or_init(Default::default);
    if let Some(s) = names
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(owned.as_str())
    {
        return Cow::Borrowed(s);
    }
    let mut names = names.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(s) = names.get(owned.as_str()) {
        return Cow::Borrowed(s);
    }
    if names.len() >= MAX_STATIC_NAMES {
        return name;
    }
    let leaked: &'static str = Box::leak(owned.clone().into_boxed_str());
    names.insert(leaked);
    Cow::Borrowed(leaked)
}

type Names = std::collections::HashSet<&'static str, foldhash::fast::RandomState>;

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SpanKind;
    use opentelemetry_semantic_conventions::attribute as a;

    use super::*;
    use crate::{DurationMetric, Failure, Outcome};

    const METRIC: &str = "db.client.operation.duration";

    fn recorder(t: &otel_testkit::TestTelemetry, limit: usize) -> SpanRecorder {
        SpanRecorder::builder(SpanKind::Client, "test")
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .status_code_attribute(a::DB_RESPONSE_STATUS_CODE)
            .duration_metric(DurationMetric::db_client().with_max_distinct_values(limit))
            .build()
    }

    fn sorted(attrs: &[KeyValue]) -> Vec<(String, String)> {
        let mut v: Vec<_> = attrs
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_prepared_start_records_what_start_db_records() {
        let op = || {
            DbOperation::new("postgresql")
                .namespace("shop")
                .operation("SELECT")
                .collection("orders")
                .summary("SELECT orders")
                .server("db.local", Some(5432))
                .attribute(KeyValue::new("db.stored_procedure.name", "p"))
        };
        let text = QueryText::Ready("SELECT * FROM orders WHERE id = ?".into());
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 256);
        rec.start_db(
            &Context::new(),
            &op().query_text(QueryText::Ready("SELECT * FROM orders WHERE id = ?".into())),
        )
        .end(Outcome::Success);
        let prepared = rec.prepare_db(&op(), None);
        for _ in 0..3 {
            rec.start_prepared_db(&Context::new(), None, &prepared, Some(&text))
                .end(Outcome::Success);
        }
        let spans = t.spans();
        assert_eq!(spans.len(), 4);
        for s in &spans {
            assert_eq!(s.name, "SELECT orders");
            assert_eq!(sorted(&s.attributes), sorted(&spans[0].attributes));
        }
        assert!(
            spans[3]
                .attributes
                .iter()
                .any(|kv| kv.key.as_str() == a::DB_QUERY_TEXT)
        );
        let points = t.histogram(METRIC);
        assert_eq!(points.len(), 1, "one series, bound or not: {points:?}");
        assert_eq!(points[0].count, 4);
        assert_eq!(
            points[0].attr(a::DB_COLLECTION_NAME).as_deref(),
            Some("orders")
        );
    }

    #[test]
    fn details_are_added_capped_and_only_to_recording_spans() {
        use opentelemetry_sdk::trace::Sampler;
        let t = otel_testkit::TestTelemetry::with_sampler(Sampler::ParentBased(Box::new(
            Sampler::AlwaysOn,
        )));
        let rec = recorder(&t, 256);
        let prepared = rec.prepare_db(&DbOperation::new("mongodb").summary("find orders"), None);
        let long = "v".repeat(5000);
        let mut calls = 0;
        rec.start_prepared_db_named(&Context::new(), None, &prepared, None, 2, |add| {
            calls += 1;
            add(KeyValue::new("db.mongodb.driver_connection_id", 7_i64));
            add(KeyValue::new("app.detail", long.clone()));
        })
        .end(Outcome::Success);
        let unsampled = otel_testkit::sampling::unsampled_remote_parent();
        rec.start_prepared_db_named(&unsampled, None, &prepared, None, 2, |_| calls += 1)
            .end(Outcome::Success);
        assert_eq!(calls, 1, "called for the recording span only");
        let spans = t.spans();
        assert_eq!(spans.len(), 1);
        let attr = |k: &str| {
            spans[0]
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(
            attr("db.mongodb.driver_connection_id").as_deref(),
            Some("7")
        );
        let detail = attr("app.detail").expect("detail");
        assert!(detail.len() < long.len(), "capped: {} bytes", detail.len());
        assert_eq!(attr(a::DB_QUERY_SUMMARY).as_deref(), Some("find orders"));
        // Both executions measured, on the prepared series.
        let points = t.histogram(METRIC);
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].count, 2);
    }

    #[test]
    fn hostile_names_are_refused_when_prepared() {
        let secret = "s3cr3t-token";
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 256);
        let long = format!("SELECT {}{secret}", "x".repeat(300));
        for (collection, summary) in [
            (format!("orders; DROP {secret}"), None),
            (format!("o'{secret}"), Some(long.as_str())),
            (format!("{secret} WHERE 1=1"), None),
        ] {
            let mut op = DbOperation::new("postgresql")
                .namespace("shop")
                .operation("SELECT")
                .collection(collection);
            if let Some(s) = summary {
                op = op.summary(s.to_owned());
            }
            let prepared = rec.prepare_db(&op, None);
            assert!(
                !prepared.span_name().contains(secret),
                "{}",
                prepared.span_name()
            );
            assert!(prepared.span_name().len() <= crate::MAX_NAME_LEN);
            for kv in prepared
                .attributes()
                .iter()
                .chain(prepared.metric_attributes())
            {
                assert_ne!(kv.key.as_str(), a::DB_COLLECTION_NAME, "shape check kept");
            }
            rec.start_prepared_db(&Context::new(), None, &prepared, None)
                .end(Outcome::Success);
        }
        assert_eq!(t.spans().len(), 3);
        assert!(!t.histogram(METRIC).is_empty());
        assert_eq!(t.leaks(secret), Vec::<String>::new());
    }

    #[test]
    fn the_distinct_values_bound_holds_for_prepared_operations() {
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 1);
        let prepare = |table: &str| {
            rec.prepare_db(
                &DbOperation::new("postgresql").summary(format!("SELECT {table}")),
                None,
            )
        };
        let (first, second) = (prepare("a"), prepare("b"));
        assert_eq!(first.span_name(), "SELECT a");
        assert_eq!(
            second.span_name(),
            "SELECT b",
            "the span keeps the real name"
        );
        for p in [&first, &second, &first, &second] {
            rec.start_prepared_db(&Context::new(), None, p, None)
                .end(Outcome::Success);
        }
        let mut summaries: Vec<_> = t
            .histogram(METRIC)
            .iter()
            .map(|p| (p.attr(a::DB_QUERY_SUMMARY).unwrap_or_default(), p.count))
            .collect();
        summaries.sort();
        assert_eq!(
            summaries,
            [("SELECT a".to_owned(), 2), (crate::OTHER.to_owned(), 2)]
        );
        // Another recorder admits by its own sets, per execution.
        let t2 = otel_testkit::TestTelemetry::new();
        let other = recorder(&t2, 0);
        other
            .start_prepared_db(&Context::new(), None, &first, None)
            .end(Outcome::Success);
        let points = t2.histogram(METRIC);
        assert_eq!(points.len(), 1);
        assert_eq!(
            points[0].attr(a::DB_QUERY_SUMMARY).as_deref(),
            Some(crate::OTHER)
        );
    }

    #[test]
    fn a_failure_adds_its_attributes_beside_the_bound_series() {
        let t = otel_testkit::TestTelemetry::new();
        let rec = recorder(&t, 256);
        let prepared = rec.prepare_db(&DbOperation::new("postgresql").summary("SELECT t"), None);
        rec.start_prepared_db(&Context::new(), None, &prepared, None)
            .end(Outcome::Success);
        rec.start_prepared_db(&Context::new(), None, &prepared, None)
            .end(Outcome::Failure(
                Failure::new("23505").with_status_code("23505"),
            ));
        rec.start_prepared_db(&Context::new(), None, &prepared, None)
            .end(Outcome::Success);
        let mut points: Vec<_> = t
            .histogram(METRIC)
            .iter()
            .map(|p| {
                (
                    p.attr(a::ERROR_TYPE),
                    p.attr(a::DB_RESPONSE_STATUS_CODE),
                    p.count,
                )
            })
            .collect();
        points.sort();
        assert_eq!(
            points,
            [
                (None, None, 2),
                (Some("23505".to_owned()), Some("23505".to_owned()), 1)
            ]
        );
        let failed = &t.spans()[1];
        assert!(matches!(
            failed.status,
            opentelemetry::trace::Status::Error { .. }
        ));
    }

    #[test]
    fn repeated_names_become_static_and_long_ones_stay_owned() {
        let name = static_name(Cow::Owned("SELECT prepared_static_name_test".to_owned()));
        assert!(matches!(
            name,
            Cow::Borrowed("SELECT prepared_static_name_test")
        ));
        let again = static_name(Cow::Owned("SELECT prepared_static_name_test".to_owned()));
        let (Cow::Borrowed(x), Cow::Borrowed(y)) = (&name, &again) else {
            panic!("static");
        };
        assert!(std::ptr::eq(*x, *y), "made static once");
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(matches!(static_name(Cow::Owned(long)), Cow::Owned(_)));
    }
}
