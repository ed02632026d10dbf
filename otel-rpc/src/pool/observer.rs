//! The pool instruments and the per-pool observer (documented on [`super`]).

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableUpDownCounter};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
use opentelemetry_semantic_conventions::{attribute, metric};

use crate::providers::{GlobalMeterProvider, RefreshSchedule, changed_global_meter_provider};
use crate::text::truncate;

/// Bucket boundaries (seconds) of the pool time histograms: pool waits are often far below a
/// millisecond, so the buckets start at 100 µs.
pub const POOL_TIME_BOUNDARIES: &[f64] = &[
    0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0,
];

/// Cap on `db.client.connection.pool.name`, in bytes.
pub const MAX_POOL_NAME_LEN: usize = 255;

/// `db.client.connection.state` of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Open and waiting in the pool.
    Idle,
    /// Checked out by the application.
    Used,
}

impl ConnectionState {
    /// The attribute value: `idle` or `used`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Idle => "idle",
            ConnectionState::Used => "used",
        }
    }
}

/// The connection counts of a pool at one moment, for [`PoolObserver::counts_from`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolCounts {
    /// Open connections waiting in the pool.
    pub idle: u64,
    /// Connections checked out.
    pub used: u64,
}

/// Configured limits of a pool; `None` limits are not reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolLimits {
    /// `db.client.connection.max`: most open connections allowed.
    pub max: Option<u64>,
    /// `db.client.connection.idle.min`: fewest idle connections kept.
    pub idle_min: Option<u64>,
    /// `db.client.connection.idle.max`: most idle connections kept.
    pub idle_max: Option<u64>,
}

/// `server.address:server.port/db.namespace`, the conventions' default pool name; missing
/// parts are left out (`db.local/shop`, `db.local:5432`, `shop`). `unknown` when all are.
///
/// ```
/// use otel_rpc::pool::default_pool_name;
/// assert_eq!(default_pool_name(Some("db"), Some(5432), Some("shop")), "db:5432/shop");
/// assert_eq!(default_pool_name(None, None, Some("app.db")), "app.db");
/// assert_eq!(default_pool_name(None, None, None), "unknown");
/// ```
pub fn default_pool_name(
    address: Option<&str>,
    port: Option<u16>,
    namespace: Option<&str>,
) -> String {
    let mut name = String::new();
    if let Some(a) = address {
        name.push_str(a);
        if let Some(p) = port {
            name.push(':');
            name.push_str(&p.to_string());
        }
    }
    if let Some(ns) = namespace {
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(ns);
    }
    if name.is_empty() {
        name.push_str("unknown");
    }
    name
}

impl Instruments {
    /// The instruments on `meter`; the observable ones read the pools of `registry`.
    fn build(meter: &Meter, registry: &Registry) -> Self {
        let observable = [
            observable(
                meter,
                registry,
                metric::DB_CLIENT_CONNECTION_COUNT,
                "{connection}",
                "The number of connections that are currently in state described by the state attribute.",
                |s, out| {
                    let (idle, used) = s.counts();
                    out(idle, &s.idle_attrs);
                    out(used, &s.used_attrs);
                },
            ),
            observable(
                meter,
                registry,
                metric::DB_CLIENT_CONNECTION_IDLE_MAX,
                "{connection}",
                "The maximum number of idle open connections allowed.",
                |s, out| s.limit(&s.idle_max, out),
            ),
            observable(
                meter,
                registry,
                metric::DB_CLIENT_CONNECTION_IDLE_MIN,
                "{connection}",
                "The minimum number of idle open connections allowed.",
                |s, out| s.limit(&s.idle_min, out),
            ),
            observable(
                meter,
                registry,
                metric::DB_CLIENT_CONNECTION_MAX,
                "{connection}",
                "The maximum number of open connections allowed.",
                |s, out| s.limit(&s.max, out),
            ),
            observable(
                meter,
                registry,
                metric::DB_CLIENT_CONNECTION_PENDING_REQUESTS,
                "{request}",
                "The number of current pending requests for an open connection.",
                |s, out| out(s.pending.load(Ordering::Relaxed).max(0), &s.name_attrs),
            ),
        ];
        let histogram = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(description)
                .with_boundaries(POOL_TIME_BOUNDARIES.to_vec())
                .build()
        };
        Instruments {
            timeouts: meter
                .u64_counter(metric::DB_CLIENT_CONNECTION_TIMEOUTS)
                .with_unit("{timeout}")
                .with_description(
                    "The number of connection timeouts that have occurred trying to obtain a connection from the pool.",
                )
                .build(),
            create_time: histogram(
                metric::DB_CLIENT_CONNECTION_CREATE_TIME,
                "The time it took to create a new connection.",
            ),
            wait_time: histogram(
                metric::DB_CLIENT_CONNECTION_WAIT_TIME,
                "The time it took to obtain an open connection from the pool.",
            ),
            use_time: histogram(
                metric::DB_CLIENT_CONNECTION_USE_TIME,
                "The time between borrowing a connection and returning it to the pool.",
            ),
            _observable: observable,
        }
    }
}

/// The `db.client.connection.*` instruments of one meter. Build once per meter (or per
/// adapter instance) and call [`pool`](Self::pool) for every pool. Cheap to clone.
#[derive(Clone)]
pub struct PoolMetrics {
    inner: Arc<Shared>,
}

impl fmt::Debug for PoolMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pools = self.inner.registry.lock().map(|r| r.len()).unwrap_or(0);
        f.debug_struct("PoolMetrics")
            .field("pools", &pools)
            .field("follows_global", &self.inner.follow.is_some())
            .finish()
    }
}

type Registry = Arc<Mutex<Vec<Weak<PoolState>>>>;

/// What every pool of one [`PoolMetrics`] shares: the pools (read by the observable
/// instruments' callbacks) and the instruments.
///
/// The instruments built first are a plain field, so recording with them costs what it
/// always did (no `ArcSwap`, no lock): that is every point of a `PoolMetrics` given a meter,
/// and of one following a global provider that was never replaced. Only after a replacement
/// do the points go through the `later` slot (a lock per point).
struct Shared {
    registry: Registry,
    first: Instruments,
    /// Set (with its generation, from 1) when the global meter provider was replaced.
    later: Mutex<Option<(u64, Arc<Instruments>)>>,
    replaced: AtomicBool,
    /// Set when the instruments come from the global meter provider and follow its
    /// replacement.
    follow: Option<FollowGlobal>,
}

/// How [`PoolMetrics::global`] follows the global meter provider: on the recorders' schedule
/// (re-read at most once per refresh interval, by the first pool event after it), with new
/// instruments only when the provider changed (compared by identity).
struct FollowGlobal {
    scope: InstrumentationScope,
    schedule: RefreshSchedule,
    from: Mutex<Weak<GlobalMeterProvider>>,
}

impl Shared {
    fn new(first: Instruments, registry: Registry, follow: Option<FollowGlobal>) -> Self {
        Shared {
            registry,
            first,
            later: Mutex::new(None),
            replaced: AtomicBool::new(false),
            follow,
        }
    }

    /// Runs `f` with the instruments to record with now and their generation (0: the first),
    /// re-reading the global meter provider first when these follow it and a re-read is due.
    /// `now` is the caller's clock reading when it has one (the checkout guards do), so
    /// following the global costs no clock read of its own.
    fn with<R>(&self, now: Option<Instant>, f: impl FnOnce(&Instruments, u64) -> R) -> R {
        if let Some(follow) = &self.follow
            && follow.schedule.claim(now.unwrap_or_else(Instant::now))
        {
            self.refresh(follow);
        }
        if self.replaced.load(Ordering::Acquire) {
            let later = self.later.lock().ok().and_then(|l| l.clone());
            if let Some((generation, instruments)) = later {
                return f(&instruments, generation);
            }
        }
        f(&self.first, 0)
    }

    fn refresh(&self, follow: &FollowGlobal) {
        let Ok(mut from) = follow.from.lock() else {
            return;
        };
        let Some(provider) = changed_global_meter_provider(&from) else {
            return;
        };
        let meter = provider.meter_with_scope(follow.scope.clone());
        let instruments = Arc::new(Instruments::build(&meter, &self.registry));
        if let Ok(mut later) = self.later.lock() {
            let generation = later.as_ref().map_or(1, |(g, _)| g + 1);
            *later = Some((generation, instruments));
            self.replaced.store(true, Ordering::Release);
        }
        *from = Arc::downgrade(&provider);
    }
}

struct Instruments {
    timeouts: Counter<u64>,
    create_time: Histogram<f64>,
    wait_time: Histogram<f64>,
    use_time: Histogram<f64>,
    _observable: [ObservableUpDownCounter<i64>; 5],
}

impl PoolMetrics {
    /// Builds the instruments on `meter` (the adapter's instrumentation scope).
    pub fn new(meter: &Meter) -> Self {
        let registry: Registry = Arc::new(Mutex::new(Vec::new()));
        PoolMetrics {
            inner: Arc::new(Shared::new(
                Instruments::build(meter, &registry),
                registry,
                None,
            )),
        }
    }

    /// Builds the instruments on the global meter provider's meter for `scope`, and follows
    /// the global meter provider: one installed later (after the pools were wrapped, as a
    /// service that sets up telemetry after its database often does) gets the pools'
    /// metrics from its first pool event on (re-read at most every 100 ms, as the recorders
    /// re-read it).
    ///
    /// ```
    /// use opentelemetry::InstrumentationScope;
    /// use otel_rpc::pool::PoolMetrics;
    ///
    /// let metrics = PoolMetrics::global(InstrumentationScope::builder("my-pool-adapter").build());
    /// let observer = metrics.pool("db.local:5432/shop");
    /// // Recorded to whatever global meter provider is installed when the event happens.
    /// observer.record_wait_time(std::time::Duration::from_micros(40));
    /// ```
    pub fn global(scope: InstrumentationScope) -> Self {
        let registry: Registry = Arc::new(Mutex::new(Vec::new()));
        let provider = opentelemetry::global::meter_provider();
        let meter = provider.meter_with_scope(scope.clone());
        let follow = FollowGlobal {
            scope,
            schedule: RefreshSchedule::new(),
            from: Mutex::new(Arc::downgrade(&provider)),
        };
        PoolMetrics {
            inner: Arc::new(Shared::new(
                Instruments::build(&meter, &registry),
                registry,
                Some(follow),
            )),
        }
    }

    /// An observer for one pool named `name` (`db.client.connection.pool.name`, capped at
    /// 255 bytes bytes). Its counts are reported while any clone of it lives.
    pub fn pool(&self, name: impl Into<StringValue>) -> PoolObserver {
        let name: StringValue = name.into();
        let name: StringValue = match truncate(name.as_str(), MAX_POOL_NAME_LEN) {
            Cow::Borrowed(_) => name,
            Cow::Owned(cut) => cut.into(),
        };
        let pool_attr = KeyValue::new(attribute::DB_CLIENT_CONNECTION_POOL_NAME, name.clone());
        let state_attrs = |s: ConnectionState| {
            [
                pool_attr.clone(),
                KeyValue::new(attribute::DB_CLIENT_CONNECTION_STATE, s.as_str()),
            ]
        };
        let name_attrs = [pool_attr.clone()];
        let state = Arc::new(PoolState {
            name,
            idle_attrs: state_attrs(ConnectionState::Idle),
            used_attrs: state_attrs(ConnectionState::Used),
            create_time: PoolHistogram::new(|i| &i.create_time, &name_attrs),
            wait_time: PoolHistogram::new(|i| &i.wait_time, &name_attrs),
            use_time: PoolHistogram::new(|i| &i.use_time, &name_attrs),
            name_attrs,
            idle: AtomicI64::new(0),
            used: AtomicI64::new(0),
            pending: AtomicI64::new(0),
            max: AtomicI64::new(UNSET),
            idle_min: AtomicI64::new(UNSET),
            idle_max: AtomicI64::new(UNSET),
            source: OnceLock::new(),
            shared: Arc::clone(&self.inner),
        });
        if let Ok(mut registry) = self.inner.registry.lock() {
            registry.retain(|w| w.strong_count() > 0);
            registry.push(Arc::downgrade(&state));
        }
        PoolObserver { state }
    }
}

const UNSET: i64 = -1;

type Observe<'a> = dyn FnMut(i64, &[KeyValue]) + 'a;

fn observable(
    meter: &Meter,
    registry: &Registry,
    name: &'static str,
    unit: &'static str,
    description: &'static str,
    read: fn(&PoolState, &mut Observe<'_>),
) -> ObservableUpDownCounter<i64> {
    let registry = Arc::clone(registry);
    meter
        .i64_observable_up_down_counter(name)
        .with_unit(unit)
        .with_description(description)
        .with_callback(move |instrument| {
            let pools: Vec<Arc<PoolState>> = match registry.lock() {
                Ok(r) => r.iter().filter_map(Weak::upgrade).collect(),
                Err(_) => return,
            };
            for pool in &pools {
                read(pool, &mut |value, attrs| instrument.observe(value, attrs));
            }
        })
        .build()
}

type CountSource = Box<dyn Fn() -> Option<PoolCounts> + Send + Sync>;

/// One pool's histogram. With the `bound-instruments` feature it is bound to the pool's
/// attributes at its first point (binding at creation would export empty series for points a
/// pool never records, e.g. `create_time` of a pool built by the user), then every point skips
/// the SDK's attribute lookup; it is bound again when the instruments were rebuilt for a new
/// global meter provider. Without the feature, points carry the attributes.
struct PoolHistogram {
    pick: fn(&Instruments) -> &Histogram<f64>,
    attrs: [KeyValue; 1],
    /// Bound to the first instruments.
    #[cfg(feature = "bound-instruments")]
    first: OnceLock<opentelemetry::metrics::BoundHistogram<f64>>,
    /// Bound to the instruments of a replaced global meter provider, with their generation.
    #[cfg(feature = "bound-instruments")]
    later: Mutex<Option<(u64, opentelemetry::metrics::BoundHistogram<f64>)>>,
}

impl PoolHistogram {
    fn new(pick: fn(&Instruments) -> &Histogram<f64>, attrs: &[KeyValue; 1]) -> Self {
        PoolHistogram {
            pick,
            attrs: attrs.clone(),
            #[cfg(feature = "bound-instruments")]
            first: OnceLock::new(),
            #[cfg(feature = "bound-instruments")]
            later: Mutex::new(None),
        }
    }

    /// Records `took`, at `now` when the caller read the clock (see [`Shared::with`]).
    fn record(&self, shared: &Shared, took: Duration, now: Option<Instant>) {
        let value = took.as_secs_f64();
        shared.with(now, |instruments, generation| {
            let histogram = (self.pick)(instruments);
            #[cfg(feature = "bound-instruments")]
            {
                if generation == 0 {
                    self.first
                        .get_or_init(|| histogram.bind(&self.attrs))
                        .record(value);
                } else if let Ok(mut slot) = self.later.lock() {
                    match &*slot {
                        Some((bound_for, bound)) if *bound_for == generation => bound.record(value),
                        _ => {
                            let bound = histogram.bind(&self.attrs);
                            bound.record(value);
                            *slot = Some((generation, bound));
                        }
                    }
                }
            }
            #[cfg(not(feature = "bound-instruments"))]
            {
                let _ = generation;
                histogram.record(value, &self.attrs);
            }
        });
    }
}

struct PoolState {
    name: StringValue,
    name_attrs: [KeyValue; 1],
    create_time: PoolHistogram,
    wait_time: PoolHistogram,
    use_time: PoolHistogram,
    idle_attrs: [KeyValue; 2],
    used_attrs: [KeyValue; 2],
    idle: AtomicI64,
    used: AtomicI64,
    pending: AtomicI64,
    max: AtomicI64,
    idle_min: AtomicI64,
    idle_max: AtomicI64,
    source: OnceLock<CountSource>,
    shared: Arc<Shared>,
}

impl PoolState {
    /// `(idle, used)`: from the polled source when one is set and answers, else the
    /// event-fed counters.
    fn counts(&self) -> (i64, i64) {
        if let Some(counts) = self.source.get().and_then(|f| f()) {
            let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            return (clamp(counts.idle), clamp(counts.used));
        }
        (
            self.idle.load(Ordering::Relaxed).max(0),
            self.used.load(Ordering::Relaxed).max(0),
        )
    }

    fn limit(&self, v: &AtomicI64, out: &mut Observe<'_>) {
        let v = v.load(Ordering::Relaxed);
        if v != UNSET {
            out(v, &self.name_attrs);
        }
    }
}

/// Feeds the metrics of one pool. Cheap to clone; the pool's counts are reported while a
/// clone lives. Two ways to feed the counts, mixable per instrument:
///
/// * **polled**: [`counts_from`](Self::counts_from) gives a function read at collection time
///   (pools that can tell their size: sqlx, deadpool `status()`, bb8 `state()`);
/// * **event-fed**: [`connection_created`](Self::connection_created),
///   [`connection_closed`](Self::connection_closed), the checkout guards
///   ([`acquire_started`](Self::acquire_started)) keep idle/used counters (driver event
///   streams such as MongoDB's CMAP events).
///
/// `pending_requests`, `wait_time`, `timeouts` and `use_time` come from
/// [`acquire_started`](Self::acquire_started) and its guards (or the `record_*` primitives).
#[derive(Clone)]
pub struct PoolObserver {
    state: Arc<PoolState>,
}

impl fmt::Debug for PoolObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (idle, used) = self.state.counts();
        f.debug_struct("PoolObserver")
            .field("name", &self.name())
            .field("idle", &idle)
            .field("used", &used)
            .field("pending", &self.state.pending.load(Ordering::Relaxed))
            .finish()
    }
}

impl PoolObserver {
    /// `db.client.connection.pool.name` of this pool.
    pub fn name(&self) -> &str {
        self.state.name.as_str()
    }

    /// Sets the limits reported as `.max`, `.idle.min` and `.idle.max` (`None`: not reported).
    pub fn set_limits(&self, limits: PoolLimits) {
        let store = |slot: &AtomicI64, v: Option<u64>| {
            let v = v.map_or(UNSET, |v| i64::try_from(v).unwrap_or(i64::MAX));
            slot.store(v, Ordering::Relaxed);
        };
        store(&self.state.max, limits.max);
        store(&self.state.idle_min, limits.idle_min);
        store(&self.state.idle_max, limits.idle_max);
    }

    /// Reads the idle/used counts from `source` at collection time (returning `None` falls
    /// back to the event-fed counters). Set once; later calls are ignored.
    pub fn counts_from(&self, source: impl Fn() -> Option<PoolCounts> + Send + Sync + 'static) {
        let _ = self.state.source.set(Box::new(source));
    }

    /// Event-fed counts: a connection was opened (it starts idle); `took`, when known, is
    /// recorded as `db.client.connection.create_time`.
    pub fn connection_created(&self, took: Option<Duration>) {
        self.state.idle.fetch_add(1, Ordering::Relaxed);
        if let Some(took) = took {
            self.record_create_time(took);
        }
    }

    /// Event-fed counts: a connection in `state` was closed.
    pub fn connection_closed(&self, state: ConnectionState) {
        self.add_connections(state, -1);
    }

    /// Event-fed counts: adds `delta` to the connections in `state` (negative to remove).
    pub fn add_connections(&self, state: ConnectionState, delta: i64) {
        let slot = match state {
            ConnectionState::Idle => &self.state.idle,
            ConnectionState::Used => &self.state.used,
        };
        slot.fetch_add(delta, Ordering::Relaxed);
    }

    /// Adds `delta` to `db.client.connection.pending_requests` (for event streams that report
    /// the start and the end of a checkout separately; prefer
    /// [`acquire_started`](Self::acquire_started)).
    pub fn add_pending(&self, delta: i64) {
        self.state.pending.fetch_add(delta, Ordering::Relaxed);
    }

    /// A checkout began: pending requests + 1 until the returned guard resolves or drops.
    pub fn acquire_started(&self) -> PendingAcquire {
        self.add_pending(1);
        PendingAcquire {
            observer: self.clone(),
            started: Instant::now(),
            done: false,
        }
    }

    /// Records one `db.client.connection.wait_time` point.
    pub fn record_wait_time(&self, took: Duration) {
        self.state.wait_time.record(&self.state.shared, took, None);
    }

    /// Records one `db.client.connection.use_time` point.
    pub fn record_use_time(&self, took: Duration) {
        self.state.use_time.record(&self.state.shared, took, None);
    }

    /// Records one `db.client.connection.create_time` point.
    pub fn record_create_time(&self, took: Duration) {
        self.state
            .create_time
            .record(&self.state.shared, took, None);
    }

    /// Counts one `db.client.connection.timeouts`.
    pub fn record_timeout(&self) {
        self.state.shared.with(None, |instruments, _| {
            instruments.timeouts.add(1, &self.state.name_attrs)
        });
    }
}

/// A checkout in progress (from [`PoolObserver::acquire_started`]). Resolve it with
/// [`acquired`](Self::acquired), [`timed_out`](Self::timed_out) or [`failed`](Self::failed);
/// dropped unresolved (the caller gave up), it only ends the pending request.
#[must_use = "a PendingAcquire counts as pending until resolved or dropped"]
pub struct PendingAcquire {
    observer: PoolObserver,
    started: Instant,
    done: bool,
}

impl fmt::Debug for PendingAcquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAcquire")
            .field("pool", &self.observer.name())
            .finish_non_exhaustive()
    }
}

impl PendingAcquire {
    /// The connection was obtained: records `wait_time`, moves one event-fed connection from
    /// idle to used, and returns the guard that records `use_time` when dropped.
    pub fn acquired(mut self) -> ConnectionUse {
        self.finish();
        // One clock read ends the wait and starts the use.
        let now = Instant::now();
        let observer = self.observer.clone();
        let state = &observer.state;
        state.wait_time.record(
            &state.shared,
            now.saturating_duration_since(self.started),
            Some(now),
        );
        observer.add_connections(ConnectionState::Idle, -1);
        observer.add_connections(ConnectionState::Used, 1);
        ConnectionUse {
            observer,
            started: now,
        }
    }

    /// The checkout timed out: counts one `timeouts`.
    pub fn timed_out(mut self) {
        self.finish();
        self.observer.record_timeout();
    }

    /// The checkout failed for another reason (pool closed, connect error).
    pub fn failed(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.observer.add_pending(-1);
        }
    }
}

impl Drop for PendingAcquire {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A checked-out connection (from [`PendingAcquire::acquired`]): dropping it records
/// `use_time` and moves one event-fed connection from used back to idle.
#[must_use = "dropping a ConnectionUse ends the use at once"]
pub struct ConnectionUse {
    observer: PoolObserver,
    started: Instant,
}

impl fmt::Debug for ConnectionUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionUse")
            .field("pool", &self.observer.name())
            .finish_non_exhaustive()
    }
}

impl ConnectionUse {
    /// The pool this connection belongs to.
    pub fn observer(&self) -> &PoolObserver {
        &self.observer
    }
}

impl Drop for ConnectionUse {
    fn drop(&mut self) {
        let now = Instant::now();
        let state = &self.observer.state;
        state.use_time.record(
            &state.shared,
            now.saturating_duration_since(self.started),
            Some(now),
        );
        self.observer.add_connections(ConnectionState::Used, -1);
        self.observer.add_connections(ConnectionState::Idle, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_capped() {
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
        let meter = opentelemetry::metrics::MeterProvider::meter(&provider, "t");
        let metrics = PoolMetrics::new(&meter);
        let observer = metrics.pool("x".repeat(1000));
        assert!(observer.name().len() <= MAX_POOL_NAME_LEN);
        assert_eq!(metrics.pool("db:5432/shop").name(), "db:5432/shop");
    }

    #[test]
    fn pending_guard_ends_once() {
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
        let meter = opentelemetry::metrics::MeterProvider::meter(&provider, "t");
        let observer = PoolMetrics::new(&meter).pool("p");
        observer.connection_created(None);
        let a = observer.acquire_started();
        let b = observer.acquire_started();
        assert_eq!(observer.state.pending.load(Ordering::Relaxed), 2);
        let used = a.acquired();
        b.timed_out();
        assert_eq!(observer.state.pending.load(Ordering::Relaxed), 0);
        assert_eq!(observer.state.counts(), (0, 1));
        drop(used);
        assert_eq!(observer.state.counts(), (1, 0));
    }

    /// Collects once and returns `(metric name, value, attributes)` of every sum point and
    /// `(metric name, count, attributes)` of every histogram point.
    fn collect(
        provider: &opentelemetry_sdk::metrics::SdkMeterProvider,
        exporter: &opentelemetry_sdk::metrics::InMemoryMetricExporter,
    ) -> Vec<(String, i64, Vec<String>)> {
        use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
        provider.force_flush().unwrap();
        let batches = exporter.get_finished_metrics().unwrap();
        let mut out = Vec::new();
        let attrs = |it: &mut dyn Iterator<Item = &KeyValue>| {
            let mut v: Vec<String> = it.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            v.sort();
            v
        };
        for scope in batches.last().unwrap().scope_metrics() {
            for m in scope.metrics() {
                let name = m.name().to_string();
                match m.data() {
                    AggregatedMetrics::I64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            out.push((name.clone(), p.value(), attrs(&mut p.attributes())));
                        }
                    }
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            out.push((name.clone(), p.value() as i64, attrs(&mut p.attributes())));
                        }
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            out.push((name.clone(), p.count() as i64, attrs(&mut p.attributes())));
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn instruments_report_polled_counts_limits_and_times() {
        use opentelemetry_sdk::metrics::{
            InMemoryMetricExporter, PeriodicReader, SdkMeterProvider,
        };
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let meter = opentelemetry::metrics::MeterProvider::meter(&provider, "t");
        let metrics = PoolMetrics::new(&meter);
        let observer = metrics.pool("db:5432/shop");
        observer.set_limits(PoolLimits {
            max: Some(4),
            idle_min: Some(1),
            idle_max: None,
        });
        observer.counts_from(|| Some(PoolCounts { idle: 3, used: 1 }));
        let pending = observer.acquire_started();
        let other = observer.acquire_started();
        let used = pending.acquired();
        other.timed_out();
        drop(used);
        observer.record_create_time(Duration::from_millis(2));
        let dead = metrics.pool("gone");
        drop(dead);

        let pool = "db.client.connection.pool.name=db:5432/shop".to_string();
        let state = |s: &str| vec![pool.clone(), format!("db.client.connection.state={s}")];
        let expected = vec![
            ("db.client.connection.count".to_string(), 1, state("used")),
            ("db.client.connection.count".to_string(), 3, state("idle")),
            (
                "db.client.connection.create_time".to_string(),
                1,
                vec![pool.clone()],
            ),
            (
                "db.client.connection.idle.min".to_string(),
                1,
                vec![pool.clone()],
            ),
            (
                "db.client.connection.max".to_string(),
                4,
                vec![pool.clone()],
            ),
            (
                "db.client.connection.pending_requests".to_string(),
                0,
                vec![pool.clone()],
            ),
            (
                "db.client.connection.timeouts".to_string(),
                1,
                vec![pool.clone()],
            ),
            (
                "db.client.connection.use_time".to_string(),
                1,
                vec![pool.clone()],
            ),
            (
                "db.client.connection.wait_time".to_string(),
                1,
                vec![pool.clone()],
            ),
        ];
        let mut expected = expected;
        expected.sort();
        assert_eq!(collect(&provider, &exporter), expected);
    }
}
