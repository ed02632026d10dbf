//! Connection-pool metrics (`db.client.connection.*`, database semantic conventions,
//! Development): the instruments and attribute rules live here, once; each adapter (or a user
//! with any other pool, e.g. deadpool or bb8) feeds a [`PoolObserver`].
//!
//! * Counts (`db.client.connection.count` by `db.client.connection.state` = `idle` | `used`,
//!   `.idle.max`, `.idle.min`, `.max`, `.pending_requests`) are **observable** instruments,
//!   read at collection time: feeding them costs an atomic add per event, or nothing at all
//!   when the pool is polled ([`PoolObserver::counts_from`]).
//! * `db.client.connection.timeouts` is a counter; `.create_time`, `.wait_time` and `.use_time`
//!   are histograms in seconds (buckets from 100 µs to 10 s: pool waits are often far below a millisecond).
//! * Every point carries `db.client.connection.pool.name`: by default
//!   [`default_pool_name`] (`server.address:server.port/db.namespace`), or a name given by the
//!   user. It is capped at 255 bytes.
//! * [`PoolMetrics::new`] records on the meter it is given; [`PoolMetrics::global`] on the
//!   global meter provider, and follows it: pools wrapped before the application installs its
//!   provider report to it once it is installed (as the recorders' spans and histograms do).
//!   The adapters take the second when no meter provider is given to them.
//! * With the `bound-instruments` feature (on by default), each pool's histograms are bound
//!   to its attributes once (the SDK's bound instruments), so a wait/use/create point costs no
//!   attribute hashing or lookup: ~880 -> ~200 instructions per point (BENCHMARKS.md).
//!
//! Attaching the observer to a pool this workspace does not wrap (here a hand-rolled one):
//!
//! ```
//! use otel_rpc::pool::{PoolCounts, PoolLimits, PoolMetrics, default_pool_name};
//! use opentelemetry::metrics::MeterProvider as _;
//!
//! let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
//! let metrics = PoolMetrics::new(&provider.meter("my-pool-adapter"));
//! let observer = metrics.pool(default_pool_name(Some("db.local"), Some(5432), Some("shop")));
//! observer.set_limits(PoolLimits { max: Some(10), idle_min: Some(0), idle_max: Some(10) });
//! // Polled counts: read only when metrics are collected (e.g. deadpool's `status()`).
//! observer.counts_from(|| Some(PoolCounts { idle: 3, used: 1 }));
//!
//! // Around each checkout:
//! let pending = observer.acquire_started();          // pending_requests + 1
//! let in_use = pending.acquired();                   // wait_time point, pending - 1
//! // ... use the connection ...
//! drop(in_use);                                      // use_time point
//! ```

pub(crate) mod observer;

pub use observer::{
    ConnectionState, ConnectionUse, PendingAcquire, PoolCounts, PoolLimits, PoolMetrics,
    PoolObserver, default_pool_name,
};
