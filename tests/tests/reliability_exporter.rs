//! Exporter down: the OTLP endpoint is a closed port, or a port that accepts connections and
//! never answers. Every Redis and SQLite call through the adapters still succeeds, the time per
//! operation stays within a few milliseconds of the no-exporter case (the adapters never wait
//! on export), and memory stays bounded: with a small `max_queue_size` the batch processor drops
//! spans instead of buffering them (shown exactly with an exporter that hangs, and by RSS with
//! the black-hole OTLP endpoint).
//!
//! One test function, phases in sequence, so the RSS figures belong to this workload only.

#[path = "it/reliability_common/mod.rs"]
mod reliability_common;

use otel_rpc::InstrumentationOptions;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};

/// Added p99 latency tolerated over the no-exporter case (generous: shared 2-core machine).
const P99_SLACK: Duration = Duration::from_millis(10);
const QUEUE: usize = 256;
const BATCH: usize = 64;
const OPS: usize = 2_000;
/// Spans big enough (about 1.9 KiB of query text each) that buffering them would show in RSS.
const MEMORY_OPS: usize = 8_000;
const RSS_SLACK_KIB: u64 = 10 * 1024;

fn batch(exporter: impl SpanExporter + 'static, queue: usize, batch: usize) -> SdkTracerProvider {
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(batch)
                .with_scheduled_delay(Duration::from_millis(10))
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build()
}

fn otlp(endpoint: &str) -> SdkTracerProvider {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_millis(500))
        .build()
        .expect("OTLP exporter");
    batch(exporter, QUEUE, BATCH)
}

/// An exporter that hangs in `export` until released, counting what it was given.
#[derive(Debug, Clone, Default)]
struct HangingExporter {
    received: Arc<AtomicUsize>,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl HangingExporter {
    fn release(&self) {
        let (open, cv) = &*self.gate;
        *open.lock().expect("gate") = true;
        cv.notify_all();
    }
}

impl SpanExporter for HangingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.received.fetch_add(batch.len(), Ordering::SeqCst);
        let (open, cv) = &*self.gate;
        let guard = open.lock().expect("gate");
        let _released = cv
            .wait_timeout_while(guard, Duration::from_secs(30), |open| !*open)
            .expect("gate");
        Ok(())
    }
}

struct Workload {
    redis: otel_redis::TracedConnection<redis::aio::MultiplexedConnection>,
    sqlite: otel_sqlx::TracedPool<sqlx::Sqlite>,
}

async fn workload(provider: &SdkTracerProvider) -> Workload {
    let url = otel_testkit::env::redis_url();
    otel_testkit::env::require("Redis", &url);
    let client = redis::Client::open(url).expect("client");
    let conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let redis = otel_redis::TracedConnection::builder(&client)
        .tracer_provider(provider.clone())
        .disable_metrics()
        .build(conn);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .expect("sqlite");
    let sqlite = otel_sqlx::TracedPool::builder(pool)
        .tracer_provider(provider.clone())
        .disable_metrics()
        .build();
    Workload { redis, sqlite }
}

/// Runs `n` operations (Redis SET / SQLite SELECT alternating), all succeeding; latencies.
async fn run(w: &Workload, n: usize, key: &str) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(n);
    let mut redis = w.redis.clone();
    for i in 0..n {
        let start = Instant::now();
        if i % 2 == 0 {
            let () = redis::cmd("SET")
                .arg(key)
                .arg(i)
                .query_async(&mut redis)
                .await
                .expect("SET succeeds whatever the exporter does");
        } else {
            let v: i64 = sqlx::query_scalar("SELECT ? * 2")
                .bind(i as i64)
                .fetch_one(&w.sqlite)
                .await
                .expect("SELECT succeeds whatever the exporter does");
            assert_eq!(v, i as i64 * 2);
        }
        latencies.push(start.elapsed());
    }
    latencies
}

/// `n` SQLite queries with about 1.9 KiB of recorded query text each, every one different (the
/// adapter caches the text of repeated statements and shares it between spans).
async fn run_fat(w: &Workload, n: usize) {
    let columns: Vec<String> = (0..150).map(|c| format!("{c} AS column_{c}")).collect();
    let columns = columns.join(", ");
    for i in 0..n {
        let sql = format!("SELECT {i} AS unique_{i}, {columns}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&w.sqlite)
            .await
            .expect("fat SELECT");
    }
}

fn percentile(latencies: &[Duration], p: f64) -> Duration {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

struct Phase {
    name: &'static str,
    p50: Duration,
    p99: Duration,
}

#[test]
fn an_unreachable_or_hanging_exporter_never_blocks_fails_or_grows_the_application() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let key = otel_testkit::env::unique_name("exporter");
    let mut phases = Vec::new();

    // Baseline: a provider with no exporter at all.
    let baseline = SdkTracerProvider::builder().build();
    let w = rt.block_on(workload(&baseline));
    rt.block_on(run(&w, 200, &key)); // warm-up
    let lat = rt.block_on(run(&w, OPS, &key));
    phases.push(Phase {
        name: "no exporter",
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    });

    // A closed port: connection refused on every export.
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let closed = otlp(&format!("http://127.0.0.1:{closed_port}/v1/traces"));
    let w = rt.block_on(workload(&closed));
    let lat = rt.block_on(run(&w, OPS, &key));
    phases.push(Phase {
        name: "OTLP to a closed port",
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    });
    let start = Instant::now();
    let _ = closed.shutdown_with_timeout(Duration::from_secs(2));
    let closed_shutdown = start.elapsed();

    // A black hole: accepts (kernel backlog), never reads, never answers.
    let hole = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hole_port = hole.local_addr().expect("addr").port();
    let black_hole = otlp(&format!("http://127.0.0.1:{hole_port}/v1/traces"));
    let w = rt.block_on(workload(&black_hole));
    let lat = rt.block_on(run(&w, OPS, &key));
    phases.push(Phase {
        name: "OTLP to a black hole",
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    });
    // Memory: 8,000 spans of ~2.5 KiB each would be ~20 MiB if buffered.
    rt.block_on(run_fat(&w, 500));
    let rss_before = reliability_common::rss_kib();
    let fat_start = Instant::now();
    rt.block_on(run_fat(&w, MEMORY_OPS));
    let fat_took = fat_start.elapsed();
    let rss_after = reliability_common::rss_kib();
    let start = Instant::now();
    let _ = black_hole.shutdown_with_timeout(Duration::from_secs(2));
    let hole_shutdown = start.elapsed();

    // Control: the same black hole with an unbounded-in-practice queue does grow, so the RSS
    // check above can see buffering.
    let control = {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(format!("http://127.0.0.1:{hole_port}/v1/traces"))
            .with_timeout(Duration::from_secs(30))
            .build()
            .expect("OTLP exporter");
        batch(exporter, 100_000, 512)
    };
    let w = rt.block_on(workload(&control));
    rt.block_on(run_fat(&w, 500));
    let control_before = reliability_common::rss_kib();
    rt.block_on(run_fat(&w, MEMORY_OPS));
    let control_after = reliability_common::rss_kib();
    drop(w);
    // Not shut down: its export hangs for 30 s; the provider's thread ends with the process.
    std::mem::forget(control);
    drop(hole);

    // A hanging exporter: exactly how many spans reach it, the rest are dropped.
    let hanging = HangingExporter::default();
    let provider = batch(hanging.clone(), 64, 16);
    let w = rt.block_on(workload(&provider));
    let emitted = 5_000;
    let lat = rt.block_on(run(&w, emitted, &key));
    phases.push(Phase {
        name: "exporter hanging in export",
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    });
    let received_while_hung = hanging.received.load(Ordering::SeqCst);
    hanging.release();
    let _ = provider.force_flush();
    let received = hanging.received.load(Ordering::SeqCst);
    let _ = provider.shutdown_with_timeout(Duration::from_secs(2));
    let _: redis::RedisResult<i64> = rt.block_on(async {
        let mut c = w.redis.clone();
        redis::cmd("DEL").arg(&key).query_async(&mut c).await
    });

    for p in &phases {
        eprintln!(
            "exporter: {:<28} p50 {:>10.3?}  p99 {:>10.3?}",
            p.name, p.p50, p.p99
        );
    }
    eprintln!(
        "exporter: black hole, {MEMORY_OPS} fat spans in {fat_took:?}: RSS {} -> {} MiB; shutdown closed port {closed_shutdown:?}, black hole {hole_shutdown:?}",
        rss_before / 1024,
        rss_after / 1024
    );
    eprintln!(
        "exporter: control with max_queue_size 100,000: RSS {} -> {} MiB",
        control_before / 1024,
        control_after / 1024
    );
    eprintln!(
        "exporter: hanging exporter (queue 64, batch 16): {emitted} spans emitted, {received_while_hung} handed to the exporter while hung, {received} in total, {} dropped",
        emitted - received
    );

    let base = &phases[0];
    for p in &phases[1..] {
        assert!(
            p.p99 <= base.p99 + P99_SLACK,
            "{}: p99 {:?} vs no exporter {:?}",
            p.name,
            p.p99,
            base.p99
        );
    }
    assert!(
        rss_after.saturating_sub(rss_before) < RSS_SLACK_KIB,
        "RSS grew from {rss_before} KiB to {rss_after} KiB: spans are being buffered"
    );
    assert!(
        control_after.saturating_sub(control_before) > RSS_SLACK_KIB,
        "control: buffering the fat spans should exceed the slack ({control_before} -> {control_after} KiB)"
    );
    // The queue holds 64 and one batch of 16 is in the exporter: everything else was dropped.
    assert!(
        received >= 16,
        "the exporter got at least one batch: {received}"
    );
    assert!(
        received <= 64 + 16 + 16,
        "received {received}: spans were buffered, not dropped"
    );
    assert!(
        closed_shutdown < Duration::from_secs(3),
        "{closed_shutdown:?}"
    );
    assert!(hole_shutdown < Duration::from_secs(3), "{hole_shutdown:?}");
}
