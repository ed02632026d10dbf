//! Attaching the `otel_rpc::pool` observer to a deadpool-redis pool.
//!
//! otel-redis records no pool metrics by itself: a multiplexed connection or a
//! `ConnectionManager` is one connection shared by every caller, not a pool. When the
//! application does pool connections (deadpool-redis, bb8), these few lines feed the
//! `db.client.connection.*` instruments of `otel-rpc` from the pool:
//!
//! * `count` (idle / used) and `max`: read from `Pool::status()` at collection time;
//! * `pending_requests`, `wait_time`, `timeouts` and `use_time`: from each checkout, made
//!   through [`ObservedPool::get`].
//!
//! `create_time` is not fed: deadpool has no hook around connection creation.
//!
//! Shared by the example and the test (`tests/pool.rs`); each uses part of it.
#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use deadpool_redis::{Connection, Pool, PoolError, Timeouts};
use otel_redis::TracedConnection;
use otel_rpc::pool::{ConnectionUse, PoolCounts, PoolLimits, PoolMetrics, PoolObserver};

/// A deadpool-redis pool whose checkouts feed a [`PoolObserver`] and whose connections are
/// traced.
pub struct ObservedPool {
    pool: Pool,
    observer: PoolObserver,
    /// The traced configuration every checked-out connection is wrapped with.
    traced: TracedConnection<()>,
}

/// A checked-out, traced connection; dropping it returns it to the pool and records its use
/// time.
pub struct ObservedConnection {
    // Field order: the connection goes back to the pool before the use guard ends.
    conn: TracedConnection<Connection>,
    _use: ConnectionUse,
}

impl ObservedPool {
    /// Observes `pool` as `name` (by convention `server.address:server.port/db.namespace`,
    /// see `otel_rpc::pool::default_pool_name`) with the instruments of `metrics`; checked-out
    /// connections are wrapped with the configuration of `traced`.
    pub fn new(
        pool: Pool,
        name: &str,
        metrics: &PoolMetrics,
        traced: TracedConnection<()>,
    ) -> Self {
        let observer = metrics.pool(name.to_owned());
        let status = pool.status();
        observer.set_limits(PoolLimits {
            max: u64::try_from(status.max_size).ok(),
            ..PoolLimits::default()
        });
        // A weak handle: the observer must not keep a dropped pool alive.
        let weak = pool.weak();
        observer.counts_from(move || {
            let status = weak.upgrade()?.status();
            let idle = u64::try_from(status.available).ok()?;
            let size = u64::try_from(status.size).ok()?;
            Some(PoolCounts {
                idle,
                used: size.saturating_sub(idle),
            })
        });
        ObservedPool {
            pool,
            observer,
            traced,
        }
    }

    /// The pool's status (size, available, waiting).
    pub fn status(&self) -> deadpool_redis::Status {
        self.pool.status()
    }

    /// Checks a connection out, waiting as long as the pool's own timeouts allow.
    pub async fn get(&self) -> Result<ObservedConnection, PoolError> {
        self.get_within(self.pool.timeouts()).await
    }

    /// Checks a connection out, waiting at most `wait`.
    pub async fn get_timeout(&self, wait: Duration) -> Result<ObservedConnection, PoolError> {
        let mut timeouts = self.pool.timeouts();
        timeouts.wait = Some(wait);
        self.get_within(timeouts).await
    }

    async fn get_within(&self, timeouts: Timeouts) -> Result<ObservedConnection, PoolError> {
        let pending = self.observer.acquire_started();
        match self.pool.timeout_get(&timeouts).await {
            Ok(conn) => Ok(ObservedConnection {
                conn: self.traced.with_inner(conn),
                _use: pending.acquired(),
            }),
            Err(e @ PoolError::Timeout(_)) => {
                pending.timed_out();
                Err(e)
            }
            Err(e) => {
                pending.failed();
                Err(e)
            }
        }
    }
}

impl Deref for ObservedConnection {
    type Target = TracedConnection<Connection>;

    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl DerefMut for ObservedConnection {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}
