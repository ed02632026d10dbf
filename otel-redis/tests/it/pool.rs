//! Pool metrics: otel-redis records none for a multiplexed connection or a
//! `ConnectionManager` (one shared connection, not a pool); a deadpool-redis pool gets the
//! `db.client.connection.*` instruments of `otel_rpc::pool` through the example's observer
//! (`examples/deadpool/observed.rs`), checked here against the real Redis.

use crate::common;
#[path = "../../examples/deadpool/observed.rs"]
mod observed;

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::metrics::MeterProvider;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use otel_redis::TracedConnection;
use otel_rpc::pool::PoolMetrics;
use otel_testkit::TestTelemetry;
use tokio::sync::Semaphore;

use observed::ObservedPool;

const POOL_METRICS: [&str; 9] = [
    "db.client.connection.count",
    "db.client.connection.idle.max",
    "db.client.connection.idle.min",
    "db.client.connection.max",
    "db.client.connection.pending_requests",
    "db.client.connection.timeouts",
    "db.client.connection.create_time",
    "db.client.connection.wait_time",
    "db.client.connection.use_time",
];

#[tokio::test]
async fn shared_connections_record_no_pool_metrics() {
    let t = TestTelemetry::new();
    let (client, mut multiplexed) = common::traced(&t).await;
    let manager = redis::aio::ConnectionManager::new(client.clone())
        .await
        .expect("connection manager");
    let mut manager = multiplexed.with_inner(manager);
    let _: String = redis::cmd("PING")
        .query_async(&mut multiplexed)
        .await
        .unwrap();
    let _: String = redis::cmd("PING").query_async(&mut manager).await.unwrap();
    assert_eq!(t.spans_named("PING").len(), 2);
    assert!(t.series("db.client.operation.duration") > 0);
    for name in POOL_METRICS {
        assert_eq!(t.series(name), 0, "{name}");
    }
}

/// The pool metrics collected now: `(name, value or count, attributes)`.
fn collect(
    provider: &SdkMeterProvider,
    exporter: &InMemoryMetricExporter,
) -> Vec<(String, u64, Vec<String>)> {
    provider.force_flush().expect("flush");
    let batches = exporter.get_finished_metrics().expect("metrics");
    let mut out = Vec::new();
    let Some(last) = batches.last() else {
        return out;
    };
    for m in last.scope_metrics().flat_map(|s| s.metrics()) {
        let name = m.name().to_string();
        let mut push = |value: u64, attrs: Vec<String>| out.push((name.clone(), value, attrs));
        let attrs = |it: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
            let mut v: Vec<String> = it.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            v.sort();
            v
        };
        match m.data() {
            AggregatedMetrics::I64(MetricData::Sum(s)) => s.data_points().for_each(|p| {
                push(
                    u64::try_from(p.value()).unwrap_or(0),
                    attrs(&mut p.attributes()),
                )
            }),
            AggregatedMetrics::U64(MetricData::Sum(s)) => s
                .data_points()
                .for_each(|p| push(p.value(), attrs(&mut p.attributes()))),
            AggregatedMetrics::I64(MetricData::Gauge(g)) => g.data_points().for_each(|p| {
                push(
                    u64::try_from(p.value()).unwrap_or(0),
                    attrs(&mut p.attributes()),
                )
            }),
            AggregatedMetrics::U64(MetricData::Gauge(g)) => g
                .data_points()
                .for_each(|p| push(p.value(), attrs(&mut p.attributes()))),
            AggregatedMetrics::F64(MetricData::Histogram(h)) => h
                .data_points()
                .for_each(|p| push(p.count(), attrs(&mut p.attributes()))),
            _ => {}
        }
    }
    out
}

/// The value of `name` whose attributes include `attr` (e.g. `db.client.connection.state=used`).
fn value(points: &[(String, u64, Vec<String>)], name: &str, attr: Option<&str>) -> Option<u64> {
    points
        .iter()
        .find(|(n, _, attrs)| n == name && attr.is_none_or(|a| attrs.iter().any(|x| x == a)))
        .map(|(_, v, _)| *v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_pool_feeds_the_connection_metrics() {
    let t = TestTelemetry::new();
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let client = common::client();
    let url = otel_testkit::env::redis_url();
    let mut config = deadpool_redis::Config::from_url(url.as_str());
    config.pool = Some(deadpool_redis::PoolConfig::new(2));
    let pool = config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .expect("pool");
    let traced = TracedConnection::builder(&client)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .build(());
    let metrics = PoolMetrics::new(&provider.meter("otel-redis-test"));
    let pool = Arc::new(ObservedPool::new(
        pool.clone(),
        "redis-test-pool",
        &metrics,
        traced,
    ));

    // Five holders on a pool of two: two hold a connection, three wait.
    let release = Arc::new(Semaphore::new(0));
    let holders: Vec<_> = (0..5)
        .map(|_| {
            let pool = Arc::clone(&pool);
            let release = Arc::clone(&release);
            tokio::spawn(async move {
                let mut conn = pool.get().await.expect("checkout");
                let pong: String = redis::cmd("PING").query_async(&mut *conn).await.unwrap();
                assert_eq!(pong, "PONG");
                release.acquire().await.expect("release").forget();
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(pool_status_is(&pool, 2, 3)) {
        assert!(Instant::now() < deadline, "holders never queued");
        tokio::task::yield_now().await;
    }
    let held = collect(&provider, &exporter);
    let state = |s: &str| format!("db.client.connection.state={s}");
    assert_eq!(
        value(&held, "db.client.connection.count", Some(&state("used"))),
        Some(2),
        "{held:?}"
    );
    assert_eq!(
        value(&held, "db.client.connection.count", Some(&state("idle"))),
        Some(0)
    );
    assert_eq!(
        value(&held, "db.client.connection.pending_requests", None),
        Some(3),
        "{held:?}"
    );
    assert_eq!(value(&held, "db.client.connection.max", None), Some(2));
    assert!(
        held.iter().all(|(_, _, attrs)| attrs
            .iter()
            .any(|a| a == "db.client.connection.pool.name=redis-test-pool")),
        "{held:?}"
    );

    release.add_permits(5);
    for h in holders {
        h.await.expect("holder");
    }
    let after = collect(&provider, &exporter);
    assert_eq!(
        value(&after, "db.client.connection.count", Some(&state("used"))),
        Some(0)
    );
    assert_eq!(
        value(&after, "db.client.connection.count", Some(&state("idle"))),
        Some(2)
    );
    assert_eq!(
        value(&after, "db.client.connection.pending_requests", None),
        Some(0)
    );
    assert_eq!(
        value(&after, "db.client.connection.wait_time", None),
        Some(5),
        "one wait per checkout"
    );
    assert_eq!(
        value(&after, "db.client.connection.use_time", None),
        Some(5)
    );
    assert_eq!(
        t.spans_named("PING").len(),
        5,
        "the pooled connections are traced"
    );

    // A checkout that cannot be served in time counts as a timeout.
    let a = pool.get().await.expect("first");
    let b = pool.get().await.expect("second");
    let timed_out = pool.get_timeout(Duration::from_millis(1)).await;
    assert!(
        matches!(timed_out, Err(deadpool_redis::PoolError::Timeout(_))),
        "{:?}",
        timed_out.err()
    );
    drop((a, b));
    let last = collect(&provider, &exporter);
    assert_eq!(
        value(&last, "db.client.connection.timeouts", None),
        Some(1),
        "{last:?}"
    );
    assert_eq!(
        value(&last, "db.client.connection.pending_requests", None),
        Some(0)
    );
    assert_eq!(
        value(&last, "db.client.connection.count", Some(&state("idle"))),
        Some(2)
    );
    drop(pool);
}

/// Whether the pool has `size` connections, all checked out, and `waiting` queued checkouts.
fn pool_status_is(pool: &ObservedPool, size: usize, waiting: usize) -> bool {
    let status = pool.status();
    status.size == size && status.available == 0 && status.waiting == waiting
}
