//! Starting the demo's services on the test servers, shared by the demo end-to-end tests.

use examples::demo::{self, DemoConfig, RunningDemo};
use examples::telemetry::ServiceTelemetry;
use otel_testkit::env::{mongodb_uri, redis_url, require, unique_name};

/// Starts `message` and `user` with SQLite in memory, the test Redis and MongoDB (a unique
/// database named after `prefix`), asserting both stores were reached.
pub async fn start_demo(
    prefix: &str,
    user: &ServiceTelemetry,
    message: &ServiceTelemetry,
) -> RunningDemo {
    require("Redis", &redis_url());
    require("MongoDB (FerretDB)", &mongodb_uri());
    let config = DemoConfig {
        sql_url: "sqlite::memory:".into(),
        redis_url: Some(redis_url()),
        mongo_uri: Some(mongodb_uri()),
        mongo_database: unique_name(prefix),
    };
    let running = demo::start(&config, user, message)
        .await
        .expect("demo services start");
    assert!(
        running.redis && running.mongo,
        "stores missing: {:?}",
        running.missing
    );
    running
}
