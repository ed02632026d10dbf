//! A flood of operations with distinct hostile names cannot grow the metric or the handler's
//! state: value-shaped collection and database names are omitted, unknown command names are
//! `_OTHER`, so `db.client.operation.duration` keeps a handful of series, and the heap held
//! after the flood stays where it was before it (the test kit's counting global allocator: one
//! `#[test]` in this binary).

#[path = "it/common/mod.rs"]
mod common;

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use mongodb::bson::{Document, doc};
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::TestTelemetry;
use otel_testkit::heap::CountingAllocator;

#[global_allocator]
static HEAP: CountingAllocator = CountingAllocator::new();

const OPERATIONS: usize = 10_000;
const TASKS: usize = 8;
/// Operations of the flood's shapes run before the heap is read the first time: the driver's
/// connection pool, the in-memory exporters' buffers and the series exist before the flood.
const WARMUP: usize = 500;
/// Operations run in all (warm-up and flood).
const TOTAL: usize = WARMUP + OPERATIONS;
/// The flood runs in chunks of this many; each chunk's spans are forgotten after it, so the
/// in-memory span exporter never holds more than after the warm-up (its buffer keeps its
/// capacity, which is the test's, not the adapter's).
const CHUNK: usize = 500;
/// Bound on the live heap after the flood minus the live heap before it, both read with no
/// command in flight and the exporters flushed and emptied: the handler may hold bounded state
/// (series, its in-flight table's capacity), nothing per command. Measured: see RELIABILITY.md;
/// 10,000 operations retaining 64 B each (640 KB) would exceed it. The driver's background
/// monitors allocate too, transiently.
const MAX_HEAP_GROWTH: i64 = 512 * 1024;

/// The documented bound: one series per (command, outcome) the flood can produce: `find`
/// ok, `find` with the namespace omitted and its error, `_OTHER` / `eval` with their errors,
/// `usersInfo`. Distinct hostile names add none.
const MAX_SERIES: usize = 8;

/// Operation `i`: a distinct hostile name in a different field each time.
fn hostile(i: usize, db: &str) -> (String, Document) {
    match i % 5 {
        0 => (
            db.to_string(),
            doc! { "find": format!("c {i} 'x'"), "filter": {} },
        ),
        1 => (format!("d b{i}"), doc! { "find": "c", "filter": {} }),
        2 => (db.to_string(), doc! { format!("cmd{i}"): 1 }),
        3 => (db.to_string(), doc! { "eval": format!("return {i}") }),
        _ => (db.to_string(), doc! { "usersInfo": format!("user {i}") }),
    }
}

/// Runs the operations of `range` from `TASKS` tasks, and returns when all are answered.
async fn send(f: &Arc<common::Fixture>, range: Range<usize>) {
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let f = Arc::clone(f);
        let range = range.clone();
        tasks.push(tokio::spawn(async move {
            for i in (range.start + task..range.end).step_by(TASKS) {
                let (db, command) = hostile(i, &f.db_name);
                let _ = f.client.database(&db).run_command(command).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
}

/// After a short pause (the driver's tasks finish their bookkeeping), every command of the
/// last `ran` operations answered and its span exported; the meter flushed, and everything
/// the exporters hold forgotten.
async fn settle(f: &common::Fixture, ran: usize) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(f.handler.in_flight(), 0, "every command answered");
    let spans = f.t.spans().len();
    assert!(spans >= ran, "{spans} spans for {ran} operations");
    let _ = f.t.meter_provider.force_flush();
    f.t.reset();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_hostile_names_keep_a_few_series_and_no_state() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).max_in_flight(64).build();
    let f = Arc::new(common::fixture_with(t, handler).await);
    send(&f, 0..WARMUP).await;
    settle(&f, WARMUP).await;
    let before = HEAP.live();
    for start in (WARMUP..TOTAL).step_by(CHUNK) {
        send(&f, start..start + CHUNK).await;
        settle(&f, CHUNK).await;
    }
    let heap = HEAP.since(before);

    assert_eq!(f.handler.in_flight(), 0, "every command answered");
    assert_eq!(f.handler.lost_replies(), 0);
    let points = f.t.histogram("db.client.operation.duration");
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert!(
        total >= TOTAL as u64,
        "{total} measurements for {TOTAL} operations"
    );
    eprintln!(
        "mongo flood: {} series after {OPERATIONS} hostile operations (and {WARMUP} of \
         warm-up); live heap after the flood {heap} bytes from the level before it",
        points.len()
    );
    assert!(
        points.len() <= MAX_SERIES,
        "{} series: {:#?}",
        points.len(),
        points.iter().map(|p| &p.attributes).collect::<Vec<_>>()
    );
    for p in &points {
        // The one valid name of the flood is the `c` of the hostile-database case.
        let collection = p.attr(a::DB_COLLECTION_NAME);
        assert!(
            matches!(collection.as_deref(), None | Some("c")),
            "{collection:?}"
        );
        if let Some(ns) = p.attr(a::DB_NAMESPACE) {
            assert_eq!(ns, f.db_name);
        }
    }
    f.cleanup().await;
    assert!(
        heap < MAX_HEAP_GROWTH,
        "heap held after the flood grew by {heap} bytes"
    );
}
