//! A deadpool-redis pool with traced connections and `db.client.connection.*` pool metrics.
//!
//! ```text
//! cargo run -p otel-redis --example deadpool     # REDIS_URL, default redis://127.0.0.1:6379/
//! ```
//!
//! Prints the spans and the pool metrics it recorded (stdout exporters would do the same in an
//! application; here the SDK's in-memory exporters keep the output short).

mod observed;

use opentelemetry::metrics::MeterProvider;
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use otel_redis::TracedConnection;
use otel_rpc::pool::{PoolMetrics, default_pool_name};
use redis::AsyncCommands;

use observed::ObservedPool;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let spans = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics.clone()).build())
        .build();

    // 1. The pool, as the application makes it.
    let mut config = deadpool_redis::Config::from_url(url.as_str());
    config.pool = Some(deadpool_redis::PoolConfig::new(4));
    let pool = config.create_pool(Some(deadpool_redis::Runtime::Tokio1))?;

    // 2. The traced configuration (server.address / port / db from the URL) and the pool
    //    observer, named by the conventions' default `server.address:server.port/db.namespace`.
    let client = redis::Client::open(url.as_str())?;
    let traced = TracedConnection::builder(&client)
        .tracer_provider(tracer_provider.clone())
        .meter_provider(meter_provider.clone())
        .build(());
    let (host, port) = match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, port) => (Some(host.clone()), Some(*port)),
        _ => (None, None),
    };
    let db = client
        .get_connection_info()
        .redis_settings()
        .db()
        .to_string();
    let name = default_pool_name(host.as_deref(), port, Some(&db));
    let pool_metrics = PoolMetrics::new(&meter_provider.meter("otel-redis"));
    let pool = ObservedPool::new(pool, &name, &pool_metrics, traced);

    // 3. Use it: every checkout is measured, every command traced.
    {
        let mut conn = pool.get().await?;
        let () = conn.set("otel_redis_example:greeting", "hello").await?;
        let greeting: String = conn.get("otel_redis_example:greeting").await?;
        let _: i64 = conn.del("otel_redis_example:greeting").await?;
        println!("read back {greeting:?}");
    }

    meter_provider.force_flush()?;
    for span in spans.get_finished_spans()? {
        println!("span {}", span.name);
    }
    for rm in metrics.get_finished_metrics()? {
        for metric in rm.scope_metrics().flat_map(|s| s.metrics()) {
            println!("metric {}", metric.name());
        }
    }
    Ok(())
}
