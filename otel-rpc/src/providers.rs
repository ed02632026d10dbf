//! The tracer, duration histogram and exception logger of a [`SpanRecorder`](crate::SpanRecorder),
//! and how a recorder built without explicit providers follows the global ones installed after
//! it was built.
//!
//! `opentelemetry::global` keeps its providers behind an `RwLock` and says nothing when one is
//! replaced; reading it per operation costs the lock plus a tracer allocation. So a recorder
//! that follows the globals re-reads them at most once per [`REFRESH_INTERVAL`], on the first
//! operation after the interval has passed. The check per operation is one relaxed atomic load
//! compared with the operation's start instant (which the recorder takes anyway for the
//! duration); the current set is read with `ArcSwap::load` (no lock, no allocation, no shared
//! reference count written). The operation that wins the refresh pays the global locks, one
//! tracer, and a new histogram only when the global meter provider changed (compared by
//! identity); the exception logger is re-read when [`crate::exception::set_logger_provider`]
//! was called since (a generation counter). Providers given explicitly are never re-read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, Guard};
use opentelemetry::InstrumentationScope;
use opentelemetry::global::{self, BoxedTracer, ObjectSafeTracer};
use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::trace::{Tracer, TracerProvider};

use crate::exception::{ExceptionLogger, SharedLoggerFactory, logger_factory};
use crate::metric::DurationMetric;
use crate::propagation::SharedPropagator;

/// Builds a tracer for a recorder's scope.
type TracerFactory = Arc<dyn Fn(InstrumentationScope) -> RecorderTracer + Send + Sync>;

/// A recorder's tracer: the SDK's own when the SDK's tracer provider was given explicitly, else
/// the API's dynamic one.
///
/// The difference is one allocation per span. A `BoxedTracer` returns its span boxed, and
/// `Context::with_span` boxes whatever span it is given once more, so every span of a dynamic
/// tracer costs two boxes besides the context's `Arc`; the SDK's span is boxed only by the
/// context.
pub(crate) enum RecorderTracer {
    Sdk(opentelemetry_sdk::trace::SdkTracer),
    Dynamic(BoxedTracer),
}

/// Builds a meter for a recorder's scope.
type MeterFactory = Arc<dyn Fn(InstrumentationScope) -> Meter + Send + Sync>;

/// The providers a builder was given: tracer, meter and logger provider and propagator, each
/// `None` for the default (the global provider, the default propagator). The one value every
/// builder holds (`SpanRecorderBuilder`, the options of every adapter and layer), set by the
/// `tracer_provider` / `meter_provider` / `logger_provider` / `propagator` words, and read
/// once when a recorder is built.
#[derive(Clone, Default)]
pub(crate) struct Providers {
    tracer: Option<TracerFactory>,
    meter: Option<MeterFactory>,
    /// The given meter provider is the SDK's (its histograms implement binding).
    meter_binds: bool,
    logger: Option<SharedLoggerFactory>,
    pub(crate) propagator: Option<SharedPropagator>,
}

impl Providers {
    /// Uses `provider` instead of the global tracer provider.
    pub(crate) fn set_tracer_provider<P>(&mut self, provider: P)
    where
        P: TracerProvider + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as Tracer>::Span: Send + Sync + 'static,
    {
        let mut slot = Some(provider);
        let any: &mut dyn std::any::Any = &mut slot;
        let sdk = any
            .downcast_mut::<Option<opentelemetry_sdk::trace::SdkTracerProvider>>()
            .and_then(Option::take);
        self.tracer = match (sdk, slot) {
            (Some(sdk), _) => Some(Arc::new(move |scope| {
                RecorderTracer::Sdk(sdk.tracer_with_scope(scope))
            })),
            (None, Some(provider)) => Some(Arc::new(move |scope| {
                let tracer: Box<dyn ObjectSafeTracer + Send + Sync> =
                    Box::new(provider.tracer_with_scope(scope));
                RecorderTracer::Dynamic(BoxedTracer::new(tracer))
            })),
            (None, None) => None,
        };
    }

    /// Uses `provider` instead of the global meter provider.
    pub(crate) fn set_meter_provider<P>(&mut self, provider: P)
    where
        P: MeterProvider + Send + Sync + 'static,
    {
        self.meter_binds = std::any::TypeId::of::<P>()
            == std::any::TypeId::of::<opentelemetry_sdk::metrics::SdkMeterProvider>();
        self.meter = Some(Arc::new(move |scope| provider.meter_with_scope(scope)));
    }

    /// Uses `provider` for exception log records instead of the global logger provider.
    pub(crate) fn set_logger_provider<P>(&mut self, provider: P)
    where
        P: opentelemetry::logs::LoggerProvider + Send + Sync + 'static,
        P::Logger: Send + Sync + 'static,
    {
        self.logger = Some(logger_factory(provider));
    }

    /// The pool metrics for `scope`: on the given meter provider, else on the global one,
    /// following its replacement.
    pub(crate) fn pool_metrics(&self, scope: InstrumentationScope) -> crate::pool::PoolMetrics {
        match &self.meter {
            Some(factory) => crate::pool::PoolMetrics::new(&factory(scope)),
            None => crate::pool::PoolMetrics::global(scope),
        }
    }

    /// What was given, resolved for `scope`: a tracer, the duration histogram (`Some(None)`:
    /// no metric) and the exception logger (`Some(None)`: no logs); `None` where the globals
    /// are followed.
    pub(crate) fn given(
        &self,
        scope: &InstrumentationScope,
        metric: Option<&DurationMetric>,
        logs: bool,
    ) -> Given {
        Given {
            tracer: self.tracer.as_ref().map(|factory| factory(scope.clone())),
            duration: match (metric, &self.meter) {
                (None, _) => Some(None),
                (Some(metric), Some(factory)) => Some(Some(metric.build(&factory(scope.clone())))),
                (Some(_), None) => None,
            },
            duration_binds: self.meter_binds,
            logger: match (logs, &self.logger) {
                (false, _) => Some(None),
                (true, Some(factory)) => Some(Some(factory(scope.clone()))),
                (true, None) => None,
            },
        }
    }
}

/// How often a recorder following the global providers re-reads them (at most; only when it
/// records). An operation started within this interval after a global provider was installed
/// may still go to the previous one.
pub(crate) const REFRESH_INTERVAL: Duration = Duration::from_millis(100);

pub(crate) type GlobalMeterProvider = dyn MeterProvider + Send + Sync;

/// What a recorder records with.
pub(crate) struct Resolved {
    pub(crate) tracer: Arc<RecorderTracer>,
    /// `None` when metrics are off.
    pub(crate) duration: Option<crate::metric::Instruments>,
    /// `duration` comes from the SDK's meter provider, given explicitly (never replaced), so a
    /// `PreparedOperation` may bind it: another `MeterProvider` may not implement binding (the
    /// API's default drops bound points), and a global one may be replaced.
    pub(crate) duration_binds: bool,
    /// `None` when exceptions do not go to logs or no logger provider is known.
    pub(crate) logger: Option<Arc<dyn ExceptionLogger>>,
    /// The global meter provider `duration` came from (identity only; never upgraded).
    meter_from: Option<Weak<GlobalMeterProvider>>,
    /// The generation of the global logger `logger` came from.
    logger_generation: u64,
}

/// Which parts follow the globals.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Follow {
    pub(crate) tracer: bool,
    pub(crate) meter: bool,
    pub(crate) logger: bool,
}

impl Follow {
    fn any(self) -> bool {
        self.tracer || self.meter || self.logger
    }
}

/// The explicitly given parts; `None` = follow the global.
pub(crate) struct Given {
    pub(crate) tracer: Option<RecorderTracer>,
    /// `Some(None)`: metrics off. `Some(Some(h))`: from an explicit meter provider.
    pub(crate) duration: Option<Option<crate::metric::Instruments>>,
    /// The explicit meter provider is the SDK's.
    pub(crate) duration_binds: bool,
    /// `Some(..)`: explicit logger (or logs off).
    pub(crate) logger: Option<Option<Arc<dyn ExceptionLogger>>>,
}

/// The current [`Resolved`] of one recorder, and its refresh schedule when it follows globals.
pub(crate) struct Resolver {
    current: ArcSwap<Resolved>,
    refresh: Option<Refresh>,
}

struct Refresh {
    follow: Follow,
    scope: InstrumentationScope,
    metric: DurationMetric,
    schedule: RefreshSchedule,
}

/// When something that follows the global providers re-reads them: at most once per
/// [`REFRESH_INTERVAL`], by the first caller after it (one relaxed load per call otherwise).
pub(crate) struct RefreshSchedule {
    epoch: Instant,
    /// Nanoseconds since `epoch` after which the next caller re-reads the globals.
    due: AtomicU64,
}

impl RefreshSchedule {
    pub(crate) fn new() -> Self {
        RefreshSchedule {
            epoch: Instant::now(),
            due: AtomicU64::new(nanos(REFRESH_INTERVAL)),
        }
    }

    /// `true` for the one caller at `now` that should re-read the globals (a re-read is due
    /// and no other caller claimed it).
    pub(crate) fn claim(&self, now: Instant) -> bool {
        let at = nanos(now.saturating_duration_since(self.epoch));
        let due = self.due.load(Ordering::Relaxed);
        at >= due
            && self
                .due
                .compare_exchange(
                    due,
                    at.saturating_add(nanos(REFRESH_INTERVAL)),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
    }
}

/// The global meter provider, when it is not the one `from` points to (compared by identity).
pub(crate) fn changed_global_meter_provider(
    from: &Weak<GlobalMeterProvider>,
) -> Option<Arc<GlobalMeterProvider>> {
    let provider = global::meter_provider();
    (!std::ptr::addr_eq(from.as_ptr(), Arc::as_ptr(&provider))).then_some(provider)
}

impl Resolver {
    /// Resolves what was not `given` from the globals now.
    pub(crate) fn new(given: Given, scope: InstrumentationScope, metric: &DurationMetric) -> Self {
        let follow = Follow {
            tracer: given.tracer.is_none(),
            meter: given.duration.is_none(),
            logger: given.logger.is_none(),
        };
        let duration_binds = given.duration_binds && !follow.meter;
        let tracer = Arc::new(given.tracer.unwrap_or_else(|| global_tracer(&scope)));
        let (duration, meter_from) = match given.duration {
            Some(h) => (h, None),
            None => {
                let (h, from) = global_histogram(&scope, metric);
                (Some(h), Some(from))
            }
        };
        let (logger, logger_generation) = match given.logger {
            Some(l) => (l, 0),
            None => global_logger(&scope),
        };
        let resolved = Resolved {
            tracer,
            duration,
            duration_binds,
            logger,
            meter_from,
            logger_generation,
        };
        Resolver {
            current: ArcSwap::from_pointee(resolved),
            refresh: follow.any().then(|| Refresh {
                follow,
                scope,
                metric: metric.clone(),
                schedule: RefreshSchedule::new(),
            }),
        }
    }

    /// The set to start an operation at `now` with, re-reading the globals first when due.
    pub(crate) fn load_at(&self, now: Instant) -> Guard<Arc<Resolved>> {
        if let Some(refresh) = &self.refresh
            && refresh.schedule.claim(now)
        {
            refresh.run(&self.current);
        }
        self.current.load()
    }

    /// The current set (no refresh).
    pub(crate) fn load(&self) -> Guard<Arc<Resolved>> {
        self.current.load()
    }

    /// `true` when some part follows the global providers (the operation start then needs an
    /// instant even when it was given a start time).
    pub(crate) fn follows_globals(&self) -> bool {
        self.refresh.is_some()
    }
}

impl Refresh {
    fn run(&self, current: &ArcSwap<Resolved>) {
        let old = current.load_full();
        let tracer = if self.follow.tracer {
            Arc::new(global_tracer(&self.scope))
        } else {
            Arc::clone(&old.tracer)
        };
        let (duration, meter_from) = match (&old.meter_from, self.follow.meter) {
            (Some(from), true) => match changed_global_meter_provider(from) {
                None => (old.duration.clone(), old.meter_from.clone()),
                Some(provider) => {
                    let meter = provider.meter_with_scope(self.scope.clone());
                    (
                        Some(self.metric.build(&meter)),
                        Some(Arc::downgrade(&provider)),
                    )
                }
            },
            _ => (old.duration.clone(), old.meter_from.clone()),
        };
        let (logger, logger_generation) = if self.follow.logger
            && crate::exception::global_logger_generation() != old.logger_generation
        {
            global_logger(&self.scope)
        } else {
            (old.logger.clone(), old.logger_generation)
        };
        current.store(Arc::new(Resolved {
            tracer,
            duration,
            duration_binds: old.duration_binds,
            logger,
            meter_from,
            logger_generation,
        }));
    }
}

fn global_tracer(scope: &InstrumentationScope) -> RecorderTracer {
    RecorderTracer::Dynamic(global::tracer_provider().tracer_with_scope(scope.clone()))
}

fn global_histogram(
    scope: &InstrumentationScope,
    metric: &DurationMetric,
) -> (crate::metric::Instruments, Weak<GlobalMeterProvider>) {
    let provider = global::meter_provider();
    let meter = provider.meter_with_scope(scope.clone());
    (metric.build(&meter), Arc::downgrade(&provider))
}

fn global_logger(scope: &InstrumentationScope) -> (Option<Arc<dyn ExceptionLogger>>, u64) {
    let (generation, factory) = crate::exception::global_logger_factory();
    (factory.map(|f| f(scope.clone())), generation)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
