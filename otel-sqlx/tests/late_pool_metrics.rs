//! A `TracedPool` wrapped before the application installs its global meter provider (a
//! service that sets up telemetry after its database) reports its pool metrics to that
//! provider once it is installed, and to a replacement after that, as its spans and duration
//! histogram do. One test per binary: it owns the process-wide providers.

use std::time::Duration;

use opentelemetry::KeyValue;
use otel_sqlx::TracedPool;
use otel_testkit::TestTelemetry;
use sqlx::sqlite::SqlitePoolOptions;

/// Longer than the refresh interval (100 ms) after which a pool event re-reads the global.
const AFTER_INSTALL: Duration = Duration::from_millis(150);

async fn select(pool: &TracedPool<sqlx::Sqlite>, n: usize) {
    for i in 0..n {
        let v: i64 = sqlx::query_scalar("SELECT ?")
            .bind(i as i64)
            .fetch_one(pool)
            .await
            .expect("select");
        assert_eq!(v, i as i64);
    }
}

/// The points of histogram `name` recorded on `t`'s meter provider, over every series.
fn points(t: &TestTelemetry, name: &str) -> u64 {
    t.histogram(name).iter().map(|p| p.count).sum()
}

fn pool_name_of(points: &[(i64, Vec<KeyValue>)]) -> Vec<String> {
    points
        .iter()
        .flat_map(|(_, attrs)| attrs.iter())
        .filter(|kv| kv.key.as_str() == "db.client.connection.pool.name")
        .map(|kv| kv.value.to_string())
        .collect()
}

#[tokio::test]
async fn pool_metrics_follow_a_global_meter_provider_installed_later() {
    // Wrapped while the global meter provider is still the no-op default.
    let raw = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite");
    let pool = TracedPool::new(raw);
    select(&pool, 3).await;

    let first = TestTelemetry::new();
    opentelemetry::global::set_meter_provider(first.meter_provider.clone());
    tokio::time::sleep(AFTER_INSTALL).await;
    select(&pool, 5).await;
    let waits = points(&first, "db.client.connection.wait_time");
    let uses = points(&first, "db.client.connection.use_time");
    // The first query after the install may still go to the no-op provider (it is the one
    // that re-reads the global), so 4 or 5 of the 5.
    assert!((4..=5).contains(&waits), "wait_time points: {waits}");
    assert!((4..=5).contains(&uses), "use_time points: {uses}");
    // The observable counts are registered on the new provider too.
    let counts = first.i64_sum("db.client.connection.count");
    assert!(
        !counts.is_empty(),
        "no db.client.connection.count on the installed provider"
    );
    assert_eq!(
        pool_name_of(&counts).len(),
        counts.len(),
        "a count without its pool name: {counts:?}"
    );
    let max = first.i64_sum("db.client.connection.max");
    assert_eq!(max.iter().map(|(v, _)| *v).collect::<Vec<_>>(), vec![1]);
    // The duration histogram follows as before.
    let durations: u64 = points(&first, "db.client.operation.duration");
    assert!((4..=5).contains(&durations), "durations: {durations}");

    // A replacement gets the points from then on; the first provider no more.
    let second = TestTelemetry::new();
    opentelemetry::global::set_meter_provider(second.meter_provider.clone());
    tokio::time::sleep(AFTER_INSTALL).await;
    select(&pool, 4).await;
    let waits2: u64 = points(&second, "db.client.connection.wait_time");
    assert!(
        (3..=4).contains(&waits2),
        "wait_time points on the replacement: {waits2}"
    );
    assert!(!second.i64_sum("db.client.connection.count").is_empty());
    let waits1_after: u64 = points(&first, "db.client.connection.wait_time");
    assert!(
        waits1_after <= waits + 1,
        "the replaced provider kept receiving points: {waits} -> {waits1_after}"
    );
}
