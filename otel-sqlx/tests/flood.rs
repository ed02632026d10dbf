//! A flood of 10,000 SQL statements with distinct hostile names (tables that do not exist,
//! identifiers with blanks and quotes, CTE names, 1,000-byte names, distinct literals and
//! aliases) against a real SQLite database cannot grow `db.client.operation.duration` past a
//! small constant, nor the heap the instrumentation holds: each recorder admits the first
//! `DurationMetric::DEFAULT_MAX_DISTINCT_VALUES` (256) summaries onto the metric and records
//! later new ones as `_OTHER` (spans keep the real summary), so the application's own
//! statements, run before and after the flood, keep their series instead of being folded into
//! the SDK's overflow series.
//!
//! Heap is counted by the test kit's counting global allocator (this binary only, Rust
//! allocations; SQLite's own C heap is not seen), so there is one `#[test]`.
#[path = "it/common/mod.rs"]
mod common;

use std::path::PathBuf;

use opentelemetry_semantic_conventions::attribute as a;
use otel_rpc::DurationMetric;
use otel_rpc::OTHER;
use otel_sqlx::TracedPool;
use otel_testkit::TestTelemetry;
use otel_testkit::env::unique_name;
use otel_testkit::heap::CountingAllocator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Sqlite};

#[global_allocator]
static HEAP: CountingAllocator = CountingAllocator::new();

/// Hostile statements in the flood.
const OPERATIONS: usize = 10_000;

/// The documented bound on the series of `db.client.operation.duration` after the flood: the
/// 256 summaries admitted (the application's own and the first hostile ones; each statement
/// shape of this flood always fails or always succeeds, so one series each) plus `_OTHER`
/// once per outcome (success and the SQLite error codes the shapes produce: at most 8).
const MAX_SERIES: usize = DurationMetric::DEFAULT_MAX_DISTINCT_VALUES + 8;

/// Bound on the heap held after the flood, above the level before it (spans exported and
/// forgotten): the SDK's cumulative storage of at most `MAX_SERIES` series, the recorder's
/// admitted summaries and otel-sqlx's bounded statement-analysis cache.
const MAX_HEAP_GROWTH: i64 = 2 * 1024 * 1024;

/// The application's own statements: run before and after the flood.
const OWN: [&str; 3] = [
    "SELECT id, v FROM items WHERE id = 1",
    "UPDATE items SET v = 'x' WHERE id = 1",
    "INSERT INTO log (msg) VALUES ('hello')",
];

/// Statement `i` of the flood: a distinct hostile name in a different place each time.
fn hostile(i: usize) -> String {
    match i % 8 {
        0 => format!("SELECT * FROM t_{i}"),
        1 => format!("SELECT \"col {i}\", 'lit {i}' FROM \"tab le {i}\""),
        2 => format!("SELECT * FROM \"it's \"\"q\"\" {i}\""),
        3 => format!("WITH c_{i} AS (SELECT 1 AS v) SELECT v FROM c_{i}"),
        4 => format!("SELECT v AS \"a; {i}\" FROM items WHERE v = 'x{i}' OR id = {i}"),
        5 => format!("INSERT INTO \"new tab {i}\" (a) VALUES ({i})"),
        6 => format!("DELETE FROM n{i}_{} WHERE 1 = 0", "x".repeat(1000)),
        _ => format!("UPDATE `u {i}` SET a = {i}"),
    }
}

struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

async fn run(pool: &TracedPool<Sqlite>, sql: String) -> bool {
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await.is_ok()
}

#[tokio::test]
async fn ten_thousand_hostile_statements_keep_the_series_and_heap_bounded() {
    let t = TestTelemetry::new();
    let path = std::env::temp_dir().join(format!("{}.db", unique_name("otel_sqlx_flood")));
    let _guard = TempDb(path.clone());
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let raw = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("open SQLite");
    let pool = common::traced(&t, raw);
    for ddl in [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)",
        "CREATE TABLE log (id INTEGER PRIMARY KEY, msg TEXT)",
        "INSERT INTO items (id, v) VALUES (1, 'a')",
    ] {
        assert!(run(&pool, ddl.to_owned()).await, "{ddl}");
    }
    let mut measured = 3u64;
    for sql in OWN {
        assert!(run(&pool, sql.to_owned()).await, "{sql}");
        measured += 1;
    }
    // Warm-up with one summary (`SELECT`) and distinct texts: fills the bounded caches (sqlx's
    // prepared statements, the statement analysis cache) and grows the in-memory span
    // exporter's buffer, so the heap before the flood already holds their steady state.
    for i in 0..OPERATIONS + 1_000 {
        assert!(run(&pool, format!("SELECT {i} AS x")).await);
    }
    measured += (OPERATIONS + 1_000) as u64;
    // Forget exported spans and points (the exporters keep their buffers' capacity).
    let _ = t.spans();
    t.reset();
    let before = HEAP.live();

    let mut failed = 0;
    for i in 0..OPERATIONS {
        if !run(&pool, hostile(i)).await {
            failed += 1;
        }
    }
    measured += OPERATIONS as u64;
    for _ in 0..10 {
        for sql in OWN {
            assert!(run(&pool, sql.to_owned()).await, "{sql} after the flood");
            measured += 1;
        }
    }

    // Spans keep the real (capped) summaries of the hostile statements.
    let spans = t.spans();
    assert_eq!(spans.len(), OPERATIONS + 30, "one span per statement");
    let last = spans
        .iter()
        .filter_map(|s| {
            s.attributes
                .iter()
                .find(|kv| kv.key.as_str() == a::DB_QUERY_SUMMARY)
        })
        .filter(|kv| kv.value.as_str() == "SELECT t_9992")
        .count();
    assert_eq!(last, 1, "the late statement's span has its real summary");
    drop(spans);

    let points = t.histogram("db.client.operation.duration");
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert_eq!(total, measured, "every statement measured once");
    let series = t.series("db.client.operation.duration");
    assert_eq!(series, points.len());
    let other: Vec<_> = points
        .iter()
        .filter(|p| p.attr(a::DB_QUERY_SUMMARY).as_deref() == Some(OTHER))
        .collect();
    let folded: u64 = other.iter().map(|p| p.count).sum();
    assert!(
        series <= MAX_SERIES,
        "{series} series: {:#?}",
        points.iter().map(|p| &p.attributes).collect::<Vec<_>>()
    );
    assert!(
        !other.is_empty() && other.len() <= 8,
        "{} _OTHER series",
        other.len()
    );
    // Shapes whose names the summary leaves out (quoted, blank-holding) share a summary; the
    // rest past the first 256 are folded.
    assert!(folded > 0, "late new summaries are _OTHER");
    for p in &points {
        assert!(
            p.attr("otel.metric.overflow").is_none(),
            "nothing falls into the SDK's overflow series"
        );
        if let Some(summary) = p.attr(a::DB_QUERY_SUMMARY) {
            assert!(summary.len() <= otel_rpc::MAX_NAME_LEN + 3);
        }
    }
    // The application's statements kept their series through the flood: 1 run before, 10 after.
    for (sql, summary) in OWN
        .iter()
        .zip(["SELECT items", "UPDATE items", "INSERT log"])
    {
        let own: Vec<_> = points
            .iter()
            .filter(|p| p.attr(a::DB_QUERY_SUMMARY).as_deref() == Some(summary))
            .collect();
        assert_eq!(own.len(), 1, "{sql}: {summary} series");
        assert!(own[0].count >= 11, "{sql}: {} measurements", own[0].count);
    }
    drop(other);
    drop(points);
    t.reset();
    let delta = HEAP.since(before);
    eprintln!(
        "sqlx flood: {OPERATIONS} hostile statements ({failed} failed), {series} series of \
         db.client.operation.duration ({folded} measurements as _OTHER), heap held after the \
         flood {delta} bytes from the level before it"
    );
    assert!(
        delta < MAX_HEAP_GROWTH,
        "heap held after the flood grew by {delta} bytes"
    );
    pool.close().await;
}
