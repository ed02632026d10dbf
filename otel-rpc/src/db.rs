//! [`DbOperation`]: the facts a database adapter extracts from one call, turned into the span
//! name and attributes by the naming rules of the database semantic conventions, in one place.

use std::borrow::Cow;

use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute;

use crate::metric::{
    DB_KEYS, DbValueRule, DistinctEntry, DistinctValues, DurationMetric, bound_db_str,
    bound_db_value,
};
use crate::untrusted::MAX_NAME_LEN;

/// What an adapter records as `db.query.text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueryTextMode {
    /// Literal values replaced by `?` (the default): safe for production.
    #[default]
    Sanitized,
    /// No query text at all.
    Off,
    /// The text exactly as sent, values included. **Unsafe**: passwords, personal data and
    /// any other literal reach your tracing backend. Only for local debugging.
    Raw,
}

/// Database query text, given ready or computed only when the span is recorded.
pub enum QueryText<'a> {
    /// Text already sanitized (or deliberately raw).
    Ready(StringValue),
    /// Computed on demand: called only when the span is sampled, so unsampled operations pay
    /// no sanitization. `None` records no text.
    Lazy(&'a dyn Fn() -> Option<StringValue>),
}

impl std::fmt::Debug for QueryText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryText::Ready(s) => f.debug_tuple("Ready").field(&s.as_str()).finish(),
            QueryText::Lazy(_) => f.write_str("Lazy(..)"),
        }
    }
}

/// One database operation as an adapter sees it. Fields left `None` are not recorded.
///
/// ```
/// use otel_rpc::DbOperation;
///
/// let op = DbOperation::new("postgresql")
///     .namespace("shop")
///     .collection("orders")
///     .operation("SELECT");
/// assert_eq!(op.span_name(), "SELECT orders");
///
/// let op = DbOperation::new("mongodb").namespace("shop").summary("find orders");
/// assert_eq!(op.span_name(), "find orders");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct DbOperation<'a> {
    /// `db.system.name`, e.g. `postgresql`, `mongodb`, `redis`.
    pub system: StringValue,
    /// `db.namespace`: database name (Redis: the db index as a string).
    pub namespace: Option<StringValue>,
    /// `db.collection.name`: collection or main table.
    pub collection: Option<StringValue>,
    /// `db.operation.name`: `find`, `SELECT`, `GET`, `PIPELINE`, ...
    pub operation: Option<StringValue>,
    /// `db.query.summary`: low-cardinality summary such as `SELECT orders`.
    pub summary: Option<StringValue>,
    /// `db.query.text`: sanitized query text.
    pub query_text: Option<QueryText<'a>>,
    /// `db.operation.batch.size`, recorded only for batches of 2 or more.
    pub batch_size: Option<i64>,
    /// `server.address`.
    pub server_address: Option<StringValue>,
    /// `server.port`.
    pub server_port: Option<u16>,
    /// Further attributes (recorded on the span only).
    pub extra: Vec<KeyValue>,
    /// `operation` is a checked name from an open set (e.g. a command outside the adapter's
    /// list): the span records it and `summary`, the metric records `db.operation.name` =
    /// `_OTHER` and no summary, so new names add no series and take no distinct-value slot.
    pub open_operation: bool,
}

impl<'a> DbOperation<'a> {
    /// An operation against `system` (`db.system.name`).
    pub fn new(system: impl Into<StringValue>) -> Self {
        DbOperation {
            system: system.into(),
            namespace: None,
            collection: None,
            operation: None,
            summary: None,
            query_text: None,
            batch_size: None,
            server_address: None,
            server_port: None,
            extra: Vec::new(),
            open_operation: false,
        }
    }

    /// Sets `db.namespace`.
    #[must_use]
    pub fn namespace(mut self, v: impl Into<StringValue>) -> Self {
        self.namespace = Some(v.into());
        self
    }

    /// Sets `db.collection.name`.
    #[must_use]
    pub fn collection(mut self, v: impl Into<StringValue>) -> Self {
        self.collection = Some(v.into());
        self
    }

    /// Sets `db.operation.name`.
    #[must_use]
    pub fn operation(mut self, v: impl Into<StringValue>) -> Self {
        self.operation = Some(v.into());
        self
    }

    /// Sets `db.query.summary`.
    #[must_use]
    pub fn summary(mut self, v: impl Into<StringValue>) -> Self {
        self.summary = Some(v.into());
        self
    }

    /// Sets `db.query.text`.
    #[must_use]
    pub fn query_text(mut self, v: QueryText<'a>) -> Self {
        self.query_text = Some(v);
        self
    }

    /// Sets `db.operation.batch.size` (only sizes of 2 or more are recorded).
    #[must_use]
    pub fn batch_size(mut self, n: i64) -> Self {
        self.batch_size = Some(n);
        self
    }

    /// Sets `server.address` and `server.port`.
    #[must_use]
    pub fn server(mut self, address: impl Into<StringValue>, port: Option<u16>) -> Self {
        self.server_address = Some(address.into());
        self.server_port = port;
        self
    }

    /// Adds a span attribute.
    #[must_use]
    pub fn attribute(mut self, kv: KeyValue) -> Self {
        self.extra.push(kv);
        self
    }

    /// The span name: `{db.query.summary}`, else `{db.operation.name} {target}`, else
    /// `{db.operation.name}`, else `{target}`, else `{db.system.name}`, where target is the
    /// collection, else the namespace, else `server.address:server.port`.
    ///
    /// Names are bounded as on the attributes (see `DB_METRIC_KEYS`):
    /// summary and namespace capped at [`MAX_NAME_LEN`](crate::untrusted::MAX_NAME_LEN) bytes,
    /// a collection failing [`name_shape_ok`](crate::untrusted::name_shape_ok) is not a target.
    ///
    /// ```
    /// use otel_rpc::DbOperation;
    /// let op = DbOperation::new("postgresql").namespace("shop").operation("SELECT").collection("o'; DROP");
    /// assert_eq!(op.span_name(), "SELECT shop");
    /// ```
    pub fn span_name(&self) -> Cow<'static, str> {
        if let Some(summary) = self.bounded(4) {
            return Cow::Owned(summary.into_owned());
        }
        let target: Option<Cow<'_, str>> =
            self.bounded(2).or_else(|| self.bounded(1)).or_else(|| {
                self.bounded(5).map(|a| match self.server_port {
                    Some(p) => Cow::Owned(format!("{a}:{p}")),
                    None => a,
                })
            });
        let name = match (self.bounded(3), target) {
            (Some(op), Some(t)) => format!("{op} {t}"),
            (Some(op), None) => op.into_owned(),
            (None, Some(t)) => t.into_owned(),
            (None, None) => self
                .bounded(0)
                .unwrap_or(Cow::Borrowed(self.system.as_str()))
                .into_owned(),
        };
        Cow::Owned(name)
    }

    /// The string fields, in the order of `DB_KEYS` (indexes 0..=5).
    fn string_fields(&self) -> [Option<&StringValue>; 6] {
        [
            Some(&self.system),
            self.namespace.as_ref(),
            self.collection.as_ref(),
            self.operation.as_ref(),
            self.summary.as_ref(),
            self.server_address.as_ref(),
        ]
    }

    /// The string field at `DB_KEYS[i]`, bounded by its rule (borrowed unless cut).
    fn bounded(&self, i: usize) -> Option<Cow<'_, str>> {
        bound_db_str(DB_KEYS[i].rule, self.string_fields()[i]?.as_str())
    }

    /// The attributes visible to the sampler and the metric (everything but the query text
    /// and `extra`).
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut attrs = Vec::with_capacity(DB_KEYS.len());
        self.for_each_attribute(|_, kv| attrs.push(kv));
        attrs
    }

    /// The span attributes, and those of them whose bit is set in `metric_mask` (indexes into
    /// `DB_KEYS`): selecting metric attributes by position needs no key comparison.
    /// The free-text values among the metric ones are then bounded by `distinct` (the
    /// recorder's first distinct values; later new ones become `_OTHER` on the metric only).
    pub(crate) fn attributes_with_metric(
        &self,
        metric_mask: u16,
        distinct: Option<&DistinctValues>,
    ) -> (Vec<KeyValue>, Vec<KeyValue>) {
        let mut attrs = Vec::with_capacity(DB_KEYS.len());
        let mut metric = Vec::with_capacity(if metric_mask == 0 {
            0
        } else {
            DB_KEYS.len() + crate::metric::END_ATTRIBUTES
        });
        let mut entries: [DistinctEntry; crate::metric::DISTINCT_SLOTS] = Default::default();
        let mut bounded = 0;
        self.for_each_attribute(|i, kv| {
            if metric_mask & (1 << i) != 0 && self.open_operation && matches!(i, 3 | 4) {
                if i == 3 {
                    metric.push(KeyValue::new(kv.key.clone(), crate::untrusted::OTHER));
                }
            } else if metric_mask & (1 << i) != 0 {
                if let Some(slot) = DB_KEYS[i].slot {
                    // At most one entry per slot, so `bounded` stays below 4 and fits a u8.
                    entries[bounded] = (metric.len() as u8, slot);
                    bounded += 1;
                }
                metric.push(kv.clone());
            }
            attrs.push(kv);
        });
        if let Some(distinct) = distinct {
            distinct.apply(&mut metric, &entries[..bounded]);
        }
        (attrs, metric)
    }

    /// Calls `f(index into DB_KEYS, attribute)` for every attribute that is set and
    /// passes its bounding rule.
    fn for_each_attribute(&self, mut f: impl FnMut(usize, KeyValue)) {
        for (i, field) in self.string_fields().into_iter().enumerate() {
            let Some(v) = field else { continue };
            let rule = DB_KEYS[i].rule;
            // Fast path (the common case): short, and not a name needing the shape check.
            let value = if v.as_str().len() <= MAX_NAME_LEN && rule == DbValueRule::Capped {
                v.clone()
            } else if let Some(bounded) = bound_db_value(rule, v) {
                bounded
            } else {
                continue;
            };
            f(i, KeyValue::new(DB_KEYS[i].key, value));
        }
        if let Some(port) = self.server_port {
            f(6, KeyValue::new(DB_KEYS[6].key, i64::from(port)));
        }
        if let Some(n) = self.batch_size.filter(|n| *n >= 2) {
            f(7, KeyValue::new(DB_KEYS[7].key, n));
        }
    }

    /// The attributes built only for recorded spans: query text and `extra`.
    pub fn detail_attributes(&self, out: &mut Vec<KeyValue>) {
        self.for_each_detail(&mut |kv| out.push(kv));
    }

    /// [`detail_attributes`](Self::detail_attributes), each handed to `add`.
    pub(crate) fn for_each_detail(&self, add: &mut dyn FnMut(KeyValue)) {
        if let Some(text) = self.query_text.as_ref().and_then(QueryText::value) {
            add(KeyValue::new(attribute::DB_QUERY_TEXT, text));
        }
        self.extra.iter().cloned().for_each(add);
    }
}

impl QueryText<'_> {
    /// The text: the ready one, or the lazy one computed now.
    pub(crate) fn value(&self) -> Option<StringValue> {
        match self {
            QueryText::Ready(s) => Some(s.clone()),
            QueryText::Lazy(f) => f(),
        }
    }
}

/// Bit i set when `metric` allows `DB_KEYS[i]`.
pub(crate) fn metric_mask(metric: &DurationMetric) -> u16 {
    DB_KEYS
        .iter()
        .enumerate()
        .filter(|(_, k)| metric.allows(k.key))
        .fold(0, |mask, (i, _)| mask | (1 << i))
}
