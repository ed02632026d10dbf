//! Connection pool metrics (`db.client.connection.*`) from the driver's CMAP events, through
//! the shared `otel_rpc::pool` observer.
//!
//! The driver keeps one pool per server. Each pool's connections are tracked by id (pending
//! until ready, then idle or used), so every count moves exactly once per event:
//!
//! | CMAP event | recorded |
//! |---|---|
//! | pool created (with its options) | `.max` and `.idle.max` = `maxPoolSize` (default 10), `.idle.min` = `minPoolSize` (default 0) |
//! | connection ready (with its duration) | `.create_time` point, `count{state=idle}` + 1 |
//! | check-out started | `.pending_requests` + 1 |
//! | checked out (with its duration) | `.pending_requests` - 1, `.wait_time` point, idle - 1, used + 1; older abandoned check-outs: see below |
//! | check-out failed | `.pending_requests` - 1; reason timeout: `.timeouts` + 1 |
//! | checked in | `.use_time` point (since its check-out), used - 1, idle + 1 |
//! | connection closed | its state - 1 |
//! | pool cleared | nothing (its connections are closed one by one later) |
//! | pool closed | every connection still counted is removed |
//!
//! **Abandoned check-outs.** The 3.x driver has no wait-queue timeout (`waitQueueTimeoutMS` is
//! ignored): a check-out ends only when it gets a connection, fails to create one, or its
//! caller drops the operation (`tokio::time::timeout`, `select!`), and that last case emits no
//! event at all. The pool serves waiting check-outs first come, first served, so a check-out
//! still pending when one that started more than the grace period after it
//! ([`OtelCommandHandlerBuilder::abandoned_checkout_after`](crate::OtelCommandHandlerBuilder::abandoned_checkout_after),
//! default 10 s, the driver's default connect timeout: a check-out that creates a connection
//! can legitimately wait that long) already got its connection was abandoned by its caller: it
//! leaves `.pending_requests` and counts as one `.timeouts`.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use mongodb::event::cmap::{CmapEvent, ConnectionCheckoutFailedReason};
use mongodb::options::ServerAddress;
use otel_rpc::pool::{ConnectionState, PoolLimits, PoolMetrics, PoolObserver, default_pool_name};

use crate::in_flight::KeyHasher;

/// The driver's default `maxPoolSize`.
const DEFAULT_MAX_POOL_SIZE: u32 = 10;

/// Default for [`OtelCommandHandlerBuilder::abandoned_checkout_after`](crate::OtelCommandHandlerBuilder::abandoned_checkout_after).
pub const DEFAULT_ABANDONED_CHECKOUT_AFTER: Duration = Duration::from_secs(10);

/// A check-out's end matches the start it was measured from to within this.
const START_TOLERANCE: Duration = Duration::from_millis(100);

/// Pending check-outs remembered per pool at most (beyond: the oldest is forgotten).
const MAX_PENDING: usize = 10_000;

/// Where one connection is.
enum Connection {
    /// Created, not ready yet: not counted.
    Pending,
    /// Ready, in the pool.
    Idle,
    /// Checked out since the instant.
    Used(Instant),
}

impl Connection {
    fn state(&self) -> Option<ConnectionState> {
        match self {
            Connection::Pending => None,
            Connection::Idle => Some(ConnectionState::Idle),
            Connection::Used(_) => Some(ConnectionState::Used),
        }
    }
}

/// Connections by the driver's connection id (a counter, not chosen by a remote party: the
/// in-flight map's cheap hasher is enough).
type Connections = HashMap<u32, Connection, BuildHasherDefault<KeyHasher>>;

struct Pool {
    address: ServerAddress,
    /// Shared with the other clients' pools to the same server (see [`Observers`]).
    observer: PoolObserver,
    connections: Connections,
    /// Start instants of the check-outs not resolved yet, oldest first.
    pending: VecDeque<Instant>,
}

impl Pool {
    fn checkout_started(&mut self, now: Instant) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            self.observer.add_pending(-1);
        }
        self.pending.push_back(now);
        self.observer.add_pending(1);
    }

    /// A check-out that took `took` ended at `now`: it leaves the pending ones (unless it was
    /// already taken for abandoned); returns its start.
    fn checkout_ended(&mut self, now: Instant, took: Duration) -> Instant {
        let start = now.checked_sub(took).unwrap_or(now);
        let closest = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| distance(**s, start))
            .filter(|(_, s)| distance(**s, start) <= START_TOLERANCE)
            .map(|(i, _)| i);
        if let Some(i) = closest {
            self.pending.remove(i);
            self.observer.add_pending(-1);
        }
        start
    }

    /// Check-outs that started more than `grace` before `served_start` (a check-out that
    /// got its connection) and are still pending: their callers gave up.
    fn abandon_older_than(&mut self, served_start: Instant, grace: Duration) {
        let Some(cutoff) = served_start.checked_sub(grace) else {
            return;
        };
        while self.pending.front().is_some_and(|s| *s < cutoff) {
            self.pending.pop_front();
            self.observer.add_pending(-1);
            self.observer.record_timeout();
        }
    }

    /// Moves connection `id` to `to` and adjusts the counts; returns where it was.
    fn set(&mut self, id: u32, to: Connection) -> Option<Connection> {
        let new_state = to.state();
        let old = self.connections.insert(id, to);
        self.moved(old.as_ref().and_then(Connection::state), new_state);
        old
    }

    fn remove(&mut self, id: u32) {
        let old = self.connections.remove(&id);
        self.moved(old.as_ref().and_then(Connection::state), None);
    }

    fn moved(&self, from: Option<ConnectionState>, to: Option<ConnectionState>) {
        if from == to {
            return;
        }
        if let Some(from) = from {
            self.observer.add_connections(from, -1);
        }
        if let Some(to) = to {
            self.observer.add_connections(to, 1);
        }
    }

    fn close(&mut self) {
        let pending = i64::try_from(self.pending.len()).unwrap_or(i64::MAX);
        self.pending.clear();
        self.observer.add_pending(-pending);
        for (_, c) in self.connections.drain() {
            if let Some(state) = c.state() {
                self.observer.add_connections(state, -1);
            }
        }
    }
}

fn distance(a: Instant, b: Instant) -> Duration {
    if a > b { a - b } else { b - a }
}

/// What the pools of every client of one handler share: the instruments, the grace period
/// and one observer per server.
pub(crate) struct PoolShared {
    metrics: PoolMetrics,
    abandoned_after: Duration,
    observers: Observers,
}

impl PoolShared {
    pub(crate) fn new(metrics: PoolMetrics, abandoned_after: Duration) -> Self {
        PoolShared {
            metrics,
            abandoned_after,
            observers: Observers::default(),
        }
    }
}

/// One observer per server address, shared by the pools of every client to that server (each
/// client's driver has a pool of its own there, with connection ids of its own): their counts
/// add up under one `db.client.connection.pool.name`, instead of two observers reporting the
/// same attributes. Counted by users, dropped with the last.
#[derive(Default)]
struct Observers {
    entries: Mutex<Vec<(ServerAddress, PoolObserver, usize)>>,
}

impl Observers {
    fn lock(&self) -> MutexGuard<'_, Vec<(ServerAddress, PoolObserver, usize)>> {
        lock(&self.entries)
    }

    fn acquire(&self, metrics: &PoolMetrics, address: &ServerAddress) -> PoolObserver {
        let mut entries = self.lock();
        if let Some((_, observer, users)) = entries.iter_mut().find(|(a, _, _)| a == address) {
            *users += 1;
            return observer.clone();
        }
        let observer = metrics.pool(pool_name(address));
        entries.push((address.clone(), observer.clone(), 1));
        observer
    }

    fn release(&self, address: &ServerAddress) {
        let mut entries = self.lock();
        if let Some(i) = entries.iter().position(|(a, _, _)| a == address) {
            entries[i].2 -= 1;
            if entries[i].2 == 0 {
                entries.swap_remove(i);
            }
        }
    }
}

/// Feeds the pool observers from the CMAP events of one client.
pub(crate) struct PoolEvents {
    shared: Arc<PoolShared>,
    pools: Mutex<Vec<Pool>>,
}

/// A poisoned lock still holds consistent data (nothing panics while holding it): recover it
/// and count the event.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned: PoisonError<_>| {
        otel_rpc::count_swallowed_error();
        poisoned.into_inner()
    })
}

impl PoolEvents {
    pub(crate) fn new(shared: Arc<PoolShared>) -> Self {
        PoolEvents {
            shared,
            pools: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Pool>> {
        lock(&self.pools)
    }

    /// The pool of `address`, created on first sight (a handler installed after the pool was
    /// created still counts what it sees from then on).
    fn pool<'p>(&self, pools: &'p mut Vec<Pool>, address: &ServerAddress) -> &'p mut Pool {
        let i = match pools.iter().position(|p| &p.address == address) {
            Some(i) => i,
            None => {
                pools.push(Pool {
                    address: address.clone(),
                    observer: self.shared.observers.acquire(&self.shared.metrics, address),
                    connections: Connections::default(),
                    pending: VecDeque::new(),
                });
                pools.len() - 1
            }
        };
        &mut pools[i]
    }

    /// Takes this client's counts out of the shared observer of `pool`.
    fn close(&self, mut pool: Pool) {
        pool.close();
        self.shared.observers.release(&pool.address);
    }

    pub(crate) fn handle(&self, event: &CmapEvent) {
        // One clock read per event that needs one (three per operation): on some virtual
        // machines a read costs a few hundred nanoseconds.
        let mut pools = self.lock();
        match event {
            CmapEvent::PoolCreated(ev) => {
                let pool = self.pool(&mut pools, &ev.address);
                let options = ev.options.as_ref();
                let max = options
                    .and_then(|o| o.max_pool_size)
                    .unwrap_or(DEFAULT_MAX_POOL_SIZE);
                let min = options.and_then(|o| o.min_pool_size).unwrap_or(0);
                // maxPoolSize 0 means no limit.
                let max = (max > 0).then_some(u64::from(max));
                pool.observer.set_limits(PoolLimits {
                    max,
                    idle_min: Some(u64::from(min)),
                    idle_max: max,
                });
            }
            CmapEvent::ConnectionCreated(ev) => {
                self.pool(&mut pools, &ev.address)
                    .set(ev.connection_id, Connection::Pending);
            }
            CmapEvent::ConnectionReady(ev) => {
                let pool = self.pool(&mut pools, &ev.address);
                pool.observer.record_create_time(ev.duration);
                pool.set(ev.connection_id, Connection::Idle);
            }
            CmapEvent::ConnectionCheckoutStarted(ev) => {
                self.pool(&mut pools, &ev.address)
                    .checkout_started(Instant::now());
            }
            CmapEvent::ConnectionCheckoutFailed(ev) => {
                let pool = self.pool(&mut pools, &ev.address);
                pool.checkout_ended(Instant::now(), ev.duration);
                if matches!(ev.reason, ConnectionCheckoutFailedReason::Timeout) {
                    pool.observer.record_timeout();
                }
            }
            CmapEvent::ConnectionCheckedOut(ev) => {
                let now = Instant::now();
                let pool = self.pool(&mut pools, &ev.address);
                let start = pool.checkout_ended(now, ev.duration);
                pool.abandon_older_than(start, self.shared.abandoned_after);
                pool.observer.record_wait_time(ev.duration);
                pool.set(ev.connection_id, Connection::Used(now));
            }
            CmapEvent::ConnectionCheckedIn(ev) => {
                let pool = self.pool(&mut pools, &ev.address);
                if let Some(Connection::Used(since)) = pool.set(ev.connection_id, Connection::Idle)
                {
                    pool.observer
                        .record_use_time(Instant::now().saturating_duration_since(since));
                }
            }
            CmapEvent::ConnectionClosed(ev) => {
                self.pool(&mut pools, &ev.address).remove(ev.connection_id);
            }
            CmapEvent::PoolClosed(ev) => {
                if let Some(i) = pools.iter().position(|p| p.address == ev.address) {
                    let pool = pools.swap_remove(i);
                    self.close(pool);
                }
            }
            // Pool ready / cleared: no count changes (cleared connections close one by one).
            _ => {}
        }
    }
}

/// The client is gone (its driver dropped the callbacks): its pools leave the shared counts.
impl Drop for PoolEvents {
    fn drop(&mut self) {
        let pools = std::mem::take(&mut *self.lock());
        for pool in pools {
            self.close(pool);
        }
    }
}

fn pool_name(address: &ServerAddress) -> String {
    match address {
        ServerAddress::Tcp { host, port } => {
            default_pool_name(Some(host), Some(port.unwrap_or(27017)), None)
        }
        other => default_pool_name(Some(&other.to_string()), None, None),
    }
}
