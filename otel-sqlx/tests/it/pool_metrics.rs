//! `db.client.connection.*` pool metrics of a `TracedPool` against the real servers (issue 17):
//! a pool of max 2 with 5 concurrent holders shows used 2 and pending requests, a wait_time
//! point per acquire, counts back to idle afterwards; a tiny acquire timeout counts timeouts.

use otel_sqlx::InstrumentationOptions;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use otel_sqlx::{TracedDatabase, TracedPool};
use otel_testkit::env::{mysql_url, postgres_url, require};
use tokio::sync::Semaphore;

/// A meter provider exporting into memory, read on demand.
struct Metrics {
    provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

/// One data point: value (sums) or count (histograms), attributes as `key=value`.
#[derive(Debug)]
struct Point {
    name: String,
    value: i64,
    attrs: Vec<String>,
}

impl Metrics {
    fn new() -> Self {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        Metrics { provider, exporter }
    }

    fn collect(&self) -> Vec<Point> {
        self.exporter.reset();
        self.provider.force_flush().expect("flush");
        let batches = self.exporter.get_finished_metrics().expect("metrics");
        let mut out = Vec::new();
        let attrs = |it: &mut dyn Iterator<Item = &KeyValue>| {
            let mut v: Vec<String> = it.map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            v.sort();
            v
        };
        let Some(last) = batches.last() else {
            return out;
        };
        for scope in last.scope_metrics() {
            for m in scope.metrics() {
                let name = m.name().to_string();
                match m.data() {
                    AggregatedMetrics::I64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            out.push(Point {
                                name: name.clone(),
                                value: p.value(),
                                attrs: attrs(&mut p.attributes()),
                            });
                        }
                    }
                    AggregatedMetrics::U64(MetricData::Sum(s)) => {
                        for p in s.data_points() {
                            out.push(Point {
                                name: name.clone(),
                                value: i64::try_from(p.value()).unwrap(),
                                attrs: attrs(&mut p.attributes()),
                            });
                        }
                    }
                    AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                        for p in h.data_points() {
                            out.push(Point {
                                name: name.clone(),
                                value: i64::try_from(p.count()).unwrap(),
                                attrs: attrs(&mut p.attributes()),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// The value of `name` for pool `pool` (and `state`, for the count).
fn value(points: &[Point], name: &str, pool: &str, state: Option<&str>) -> Option<i64> {
    let pool_attr = format!("db.client.connection.pool.name={pool}");
    points
        .iter()
        .find(|p| {
            p.name == name
                && p.attrs.contains(&pool_attr)
                && match state {
                    Some(s) => p.attrs.contains(&format!("db.client.connection.state={s}")),
                    None => p.attrs.len() == 1,
                }
        })
        .map(|p| p.value)
}

/// Collects until `ready` holds (sqlx returns a released connection to the pool on a spawned
/// task, so the pool's counts follow a moment later), bounded at ~5 s.
async fn collect_when(m: &Metrics, ready: impl Fn(&[Point]) -> bool) -> Vec<Point> {
    for _ in 0..500 {
        let points = m.collect();
        if ready(&points) {
            return points;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.collect()
}

fn traced<DB: TracedDatabase>(m: &Metrics, pool: sqlx::Pool<DB>) -> TracedPool<DB> {
    TracedPool::builder(pool)
        .meter_provider(m.provider.clone())
        .tracer_provider(opentelemetry_sdk::trace::SdkTracerProvider::builder().build())
        .build()
}

/// Five holders on a pool of two: two used, three pending; then all released.
/// Returns the wait_time count after the holders are done.
async fn five_holders_on_two<DB: TracedDatabase>(
    m: &Metrics,
    pool: &TracedPool<DB>,
    pool_name: &str,
) -> i64 {
    assert_eq!(
        pool.pool_observer()
            .map(|o| o.name().to_string())
            .as_deref(),
        Some(pool_name)
    );
    // Warm up (MariaDB detection) so only the holders' acquires follow.
    drop(pool.acquire().await.expect("warm-up acquire"));
    let before = value(
        &m.collect(),
        "db.client.connection.wait_time",
        pool_name,
        None,
    )
    .expect("wait_time after the warm-up");

    let release = Semaphore::new(0);
    let holders = (0..5).map(|_| async {
        let conn = pool.acquire().await.expect("acquire");
        let _permit = release.acquire().await.expect("release signal");
        drop(conn);
    });
    // Observe (bounded wait) until two hold and three wait, then release everyone.
    let observe = async {
        let mut seen = None;
        for _ in 0..500 {
            let points = m.collect();
            let used = value(
                &points,
                "db.client.connection.count",
                pool_name,
                Some("used"),
            );
            let pending = value(
                &points,
                "db.client.connection.pending_requests",
                pool_name,
                None,
            );
            if used == Some(2) && pending == Some(3) {
                seen = Some(points);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        release.add_permits(5);
        seen
    };
    let (_, seen) = tokio::join!(futures_util::future::join_all(holders), observe);
    let returned =
        |p: &[Point]| value(p, "db.client.connection.count", pool_name, Some("used")) == Some(0);
    let points = seen.expect("never saw used 2 and pending 3");
    assert_eq!(
        value(&points, "db.client.connection.max", pool_name, None),
        Some(2)
    );
    assert_eq!(
        value(&points, "db.client.connection.idle.max", pool_name, None),
        Some(2)
    );
    assert_eq!(
        value(&points, "db.client.connection.idle.min", pool_name, None),
        Some(0)
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.count",
            pool_name,
            Some("idle")
        ),
        Some(0)
    );

    let points = collect_when(m, returned).await;
    assert_eq!(
        value(&points, "db.client.connection.wait_time", pool_name, None),
        Some(before + 5),
        "a wait_time point per acquire"
    );
    assert_eq!(
        value(&points, "db.client.connection.use_time", pool_name, None),
        Some(before + 5),
        "a use_time point per release"
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.pending_requests",
            pool_name,
            None
        ),
        Some(0)
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.count",
            pool_name,
            Some("used")
        ),
        Some(0)
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.count",
            pool_name,
            Some("idle")
        ),
        Some(2),
        "back to idle"
    );
    assert_eq!(
        value(&points, "db.client.connection.timeouts", pool_name, None),
        None
    );

    before + 5
}

/// Every execution on the pool went through an observed acquire: `n` more points.
fn assert_executions_observed(m: &Metrics, pool_name: &str, before: i64, n: i64) {
    let points = m.collect();
    assert_eq!(
        value(&points, "db.client.connection.wait_time", pool_name, None),
        Some(before + n)
    );
    assert_eq!(
        value(&points, "db.client.connection.use_time", pool_name, None),
        Some(before + n)
    );
}

/// Three executes, one fetch_optional and one transaction.
async fn pg_queries(pool: &TracedPool<sqlx::Postgres>) {
    for _ in 0..3 {
        sqlx::query::<sqlx::Postgres>("SELECT 1")
            .execute(pool)
            .await
            .expect("select");
    }
    let _ = sqlx::query::<sqlx::Postgres>("SELECT 1")
        .fetch_optional(pool)
        .await;
    let tx = pool.begin().await.expect("begin");
    tx.commit().await.expect("commit");
}

/// Three executes, one fetch_optional and one transaction.
async fn my_queries(pool: &TracedPool<sqlx::MySql>) {
    for _ in 0..3 {
        sqlx::query::<sqlx::MySql>("SELECT 1")
            .execute(pool)
            .await
            .expect("select");
    }
    let _ = sqlx::query::<sqlx::MySql>("SELECT 1")
        .fetch_optional(pool)
        .await;
    let tx = pool.begin().await.expect("begin");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn postgres_pool_of_two_with_five_holders() {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("connect");
    let m = Metrics::new();
    let pool = traced(&m, raw);
    let before = five_holders_on_two(&m, &pool, "127.0.0.1:5432/test").await;
    pg_queries(&pool).await;
    assert_executions_observed(&m, "127.0.0.1:5432/test", before, 5);
}

#[tokio::test]
async fn mariadb_pool_of_two_with_five_holders() {
    let url = mysql_url();
    require("MariaDB", &url);
    let raw = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("connect");
    let m = Metrics::new();
    let pool = traced(&m, raw);
    let before = five_holders_on_two(&m, &pool, "127.0.0.1:3306/test").await;
    my_queries(&pool).await;
    assert_executions_observed(&m, "127.0.0.1:3306/test", before, 5);
}

#[tokio::test]
async fn acquire_timeouts_are_counted() {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        // Long enough for the first connect under parallel test load, short for the test.
        .acquire_timeout(Duration::from_millis(250))
        .connect(&url)
        .await
        .expect("connect");
    let m = Metrics::new();
    let pool = TracedPool::builder(raw)
        .meter_provider(m.provider.clone())
        .pool_name("orders-db")
        .build();
    let held = pool.acquire().await.expect("hold the only connection");
    for _ in 0..2 {
        let err = sqlx::query("SELECT 1")
            .execute(&pool)
            .await
            .expect_err("timeout");
        assert!(matches!(err, sqlx::Error::PoolTimedOut), "{err:?}");
    }
    assert!(matches!(
        pool.acquire().await,
        Err(sqlx::Error::PoolTimedOut)
    ));
    let points = m.collect();
    assert_eq!(
        value(&points, "db.client.connection.timeouts", "orders-db", None),
        Some(3)
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.pending_requests",
            "orders-db",
            None
        ),
        Some(0)
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.count",
            "orders-db",
            Some("used")
        ),
        Some(1)
    );
    drop(held);
    let points = collect_when(&m, |p| {
        value(p, "db.client.connection.count", "orders-db", Some("used")) == Some(0)
    })
    .await;
    assert_eq!(
        value(
            &points,
            "db.client.connection.count",
            "orders-db",
            Some("used")
        ),
        Some(0)
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.count",
            "orders-db",
            Some("idle")
        ),
        Some(1)
    );
}

#[tokio::test]
async fn sqlite_pool_name_is_the_file_and_metrics_switch_off() {
    let dir = std::env::temp_dir().join(format!("otel-sqlx-pool-{}.db", std::process::id()));
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&dir)
        .create_if_missing(true);
    let raw = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open");
    let m = Metrics::new();
    let pool = traced(&m, raw.clone());
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let points = m.collect();
    assert_eq!(
        value(&points, "db.client.connection.wait_time", &name, None),
        Some(1)
    );

    let m = Metrics::new();
    let off = TracedPool::builder(raw)
        .meter_provider(m.provider.clone())
        .pool_metrics(false)
        .build();
    assert!(off.pool_observer().is_none());
    sqlx::query("SELECT 1").execute(&off).await.expect("select");
    let points = m.collect();
    assert!(
        points
            .iter()
            .all(|p| !p.name.starts_with("db.client.connection.")),
        "{points:?}"
    );
    assert!(
        points
            .iter()
            .any(|p| p.name == "db.client.operation.duration")
    );
    let _ = std::fs::remove_file(&dir);
}

/// A pool created through `connect_lazy_with` records a create_time point per connection a
/// checkout opened; a pool the application built records none.
#[tokio::test]
async fn create_time_through_the_connect_helper() {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let m = Metrics::new();
    let pool = TracedPool::<sqlx::Postgres>::connect_lazy_with(
        sqlx::postgres::PgPoolOptions::new().max_connections(2),
        url.parse().expect("url"),
    )
    .meter_provider(m.provider.clone())
    .pool_name("lazy")
    .build();
    let a = pool.acquire().await.expect("first");
    let b = pool.acquire().await.expect("second");
    drop((a, b));
    // Reuses an idle connection: no new point.
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");
    let points = m.collect();
    assert_eq!(
        value(&points, "db.client.connection.create_time", "lazy", None),
        Some(2)
    );

    let m = Metrics::new();
    let raw = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect");
    let user_built = TracedPool::builder(raw)
        .meter_provider(m.provider.clone())
        .pool_name("user-built")
        .build();
    sqlx::query("SELECT 1")
        .execute(&user_built)
        .await
        .expect("select");
    let points = m.collect();
    assert_eq!(
        value(
            &points,
            "db.client.connection.create_time",
            "user-built",
            None
        ),
        None
    );
    assert_eq!(
        value(
            &points,
            "db.client.connection.wait_time",
            "user-built",
            None
        ),
        Some(1)
    );
}

/// The meter provider given through the shared options trait (as generic setup code that
/// takes any `InstrumentationOptions` builder would) feeds the pool metrics too, not only
/// the duration histogram: one meter source per builder.
#[tokio::test]
async fn the_traits_meter_provider_feeds_the_pool_metrics() {
    let m = Metrics::new();
    let raw = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory SQLite");
    let builder = TracedPool::builder(raw)
        .tracer_provider(opentelemetry_sdk::trace::SdkTracerProvider::builder().build());
    let pool = InstrumentationOptions::meter_provider(builder, m.provider.clone()).build();
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");
    let points = collect_when(&m, |p| {
        p.iter().any(|p| p.name == "db.client.connection.use_time")
    })
    .await;
    let names: Vec<&str> = points.iter().map(|p| p.name.as_str()).collect();
    for name in [
        "db.client.operation.duration",
        "db.client.connection.count",
        "db.client.connection.use_time",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
}
