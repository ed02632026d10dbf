//! Memory: resident set size before and after a million cheap instrumented operations, plus
//! the adapters' internal state (Mongo in-flight table, SQL query cache), and around the SQL
//! analysis of a huge statement.

use std::hint::black_box;

use opentelemetry::Context;
use otel_mongo::OtelCommandHandler;
use otel_sqlx::sql::{Dialect, analyze, sanitize};
use otel_sqlx::testing::QueryCache;

use crate::micro::{SQL, db_recorder, mongo_events, start_end};
use crate::pipeline::Pipeline;

/// Resident set size in KiB, from `/proc/self/statm`.
pub fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf with a valid name has no preconditions.
    #[allow(unsafe_code)] // the one libc call of the page size
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096) / 1024
}

/// One phase of the memory run.
#[derive(Debug)]
pub struct Phase {
    /// What ran.
    pub name: String,
    /// RSS before, KiB.
    pub before: u64,
    /// RSS after, KiB.
    pub after: u64,
    /// Adapter state after the phase (e.g. `in_flight = 0`).
    pub state: String,
}

/// Runs `f` `n` times in two halves and reports RSS before, after the first half (warm) and
/// after the second half: growth between the halves is what would mean a leak.
fn phase(name: &str, n: usize, mut f: impl FnMut(usize), state: impl Fn() -> String) -> Phase {
    let half = n / 2;
    for i in 0..half {
        f(i);
    }
    let warm = rss_kib();
    for i in half..n {
        f(i);
    }
    // Let the batch exporter drain its queue before reading the RSS.
    std::thread::sleep(std::time::Duration::from_millis(200));
    Phase {
        name: format!("{name} (x{n})"),
        before: warm,
        after: rss_kib(),
        state: state(),
    }
}

/// Size of the huge statement of the SQL analysis phase.
const HUGE_SQL_LEN: usize = 2 * 1024 * 1024;

/// Runs of the huge-statement phase (each one pass of the sanitizer and one of the analysis).
const HUGE_SQL_RUNS: usize = 20;

/// The CPU-only phases (one million operations each, but the huge statement's 20).
pub fn run(p: &Pipeline, n: usize) -> Vec<Phase> {
    let rec = db_recorder(p);
    let root = Context::new();
    let cache = QueryCache::new(Dialect::Postgres, 1000, 2048);
    let handler = OtelCommandHandler::builder()
        .tracer_provider(p.tracer_provider.clone())
        .meter_provider(p.meter_provider.clone())
        .build();
    let mut out = Vec::new();
    out.push(phase(
        "recorder start+end (sampled, exported)",
        n,
        |_| start_end(&rec, &root),
        String::new,
    ));
    out.push(phase(
        "SQL sanitize (cold) + QueryCache lookup of 2,000 distinct statements (cap 1,000)",
        n,
        |i| {
            black_box(sanitize(SQL, Dialect::Postgres, 2048));
            let sql = format!("SELECT * FROM t{} WHERE id = $1", i % 2000);
            let info = cache.info(&sql);
            black_box(cache.sanitized(&sql, &info));
        },
        || format!("query cache len = {}", cache.len()),
    ));
    let huge = otel_testkit::sql::values_statement(HUGE_SQL_LEN);
    out.push(phase(
        "SQL sanitize (uncapped) + analyze of a 2 MiB multi-row VALUES statement",
        HUGE_SQL_RUNS,
        |_| {
            black_box(sanitize(black_box(&huge), Dialect::Postgres, usize::MAX));
            black_box(analyze(black_box(&huge), Dialect::Postgres));
        },
        || format!("statement {} bytes", huge.len()),
    ));
    drop(huge);
    out.push(phase(
        "Mongo handler started+succeeded (sampled)",
        n,
        |i| mongo_events(&handler, i as i32),
        || format!("in_flight = {}", handler.in_flight()),
    ));
    out
}

/// Real Redis `GET`s through a traced connection (sampled).
pub async fn redis_phase(p: &Pipeline, n: usize) -> redis::RedisResult<Phase> {
    let (_client, _raw, mut traced) = crate::ops::redis::connect(p).await?;
    let key = format!("otel-bench:{}:mem", std::process::id());
    let mut before = rss_kib();
    for i in 0..n {
        if i == n / 2 {
            before = rss_kib();
        }
        let _: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut traced).await?;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    Ok(Phase {
        name: format!("real Redis GET, traced + sampled (x{n})"),
        before,
        after: rss_kib(),
        state: String::new(),
    })
}
