//! A flood of hostile operations against the real Redis: 10,000 operations with distinct
//! command names, pipeline and transaction shapes, and script-chosen error replies. The
//! number of series of `db.client.operation.duration` stays at a small constant, because
//! every metric attribute value comes from a closed set (command table, `PIPELINE` / `MULTI`,
//! Redis's own error prefixes, `_OTHER`), and the heap held after the flood stays where it
//! was before it (the test kit's counting global allocator: one `#[test]` in this binary).

#[path = "it/common/mod.rs"]
mod common;

use std::ops::Range;
use std::time::Duration;

use futures_util::future::join_all;
use opentelemetry_semantic_conventions::attribute;
use otel_redis::TracedConnection;
use otel_testkit::TestTelemetry;
use otel_testkit::heap::CountingAllocator;

#[global_allocator]
static HEAP: CountingAllocator = CountingAllocator::new();

/// Operations of the flood.
const OPERATIONS: usize = 10_000;
/// Operations of the flood's shapes run before the heap is read the first time: the
/// connection's buffers, the in-memory exporters' buffers and the series exist before it.
const WARMUP: usize = 500;
/// Operations measured in all (warm-up and flood).
const TOTAL: usize = WARMUP + OPERATIONS;
/// The flood runs in chunks of this many; each chunk's spans are checked and forgotten, so the
/// in-memory span exporter never holds more than after the warm-up (its buffer keeps its
/// capacity, which is the test's, not the adapter's).
const CHUNK: usize = 500;
/// Bound on the live heap after the flood minus the live heap before it, both read with no
/// operation in flight and the exporters flushed and emptied: the adapter may hold bounded
/// state (series, the connection's buffers), nothing per operation. Measured: see
/// RELIABILITY.md; 10,000 operations retaining 64 B each (640 KB) would exceed it.
const MAX_HEAP_GROWTH: i64 = 512 * 1024;
/// Operations whose flood word the leak scan looks for (in the chunk that ran them).
const PROBES: [usize; 8] = [0, 1, 2, 3, 4_999, 9_998, 9_999, TOTAL - 1];
/// Operations sent concurrently over the multiplexed connection.
const CONCURRENCY: usize = 100;
/// The bound documented in the README: one series per (operation, summary, error) shape the
/// flood can reach. Measured: 4 (before the closed sets: one per operation).
const MAX_SERIES: usize = 8;

/// Operation `i` of the flood: four shapes, each with a name or word no other operation has.
fn operation(i: usize) -> (bool, redis::Pipeline) {
    let word = format!("Flood{i}Word");
    let mut pipe = redis::pipe();
    match i % 4 {
        // An unknown command: `_OTHER`, ERR.
        0 => {
            pipe.cmd(&word).arg("x");
            (false, pipe)
        }
        // A script replying with an error whose first word it chose: EVAL, `_OTHER`.
        1 => {
            pipe.cmd("EVAL")
                .arg("return redis.error_reply(ARGV[1] .. ' rejected')")
                .arg(0)
                .arg(word.to_uppercase());
            (false, pipe)
        }
        // A pipeline of a known command and `i % 7 + 1` distinct unknown ones.
        2 => {
            pipe.cmd("PING");
            for j in 0..(i % 7 + 1) {
                pipe.cmd(&format!("{word}{j}")).arg("v");
            }
            (true, pipe)
        }
        // A transaction of unknown commands only: `MULTI _OTHER`, EXECABORT.
        _ => {
            pipe.atomic();
            for j in 0..(i % 5 + 2) {
                pipe.cmd(&format!("{word}{j}"));
            }
            (true, pipe)
        }
    }
}

/// Runs the operations of `range`, `CONCURRENCY` at a time; each fails with a server reply.
async fn send(conn: &TracedConnection<redis::aio::MultiplexedConnection>, range: Range<usize>) {
    for chunk in range.collect::<Vec<_>>().chunks(CONCURRENCY) {
        let results = join_all(chunk.iter().map(|&i| {
            let mut conn = conn.clone();
            async move {
                let (batch, pipe) = operation(i);
                let result = if batch {
                    pipe.query_async::<redis::Value>(&mut conn).await
                } else {
                    // A single command, sent as one.
                    let cmd = pipe.cmd_iter().next().expect("one command").clone();
                    cmd.query_async::<redis::Value>(&mut conn).await
                };
                (i, result)
            }
        }))
        .await;
        for (i, result) in results {
            // Every shape fails, but as a server reply, not as a broken connection.
            let err = result.expect_err("every flood operation fails");
            assert!(err.code().is_some(), "operation {i}: {err}");
        }
    }
}

/// No flood word of the operations of `range` is anywhere in what the exporters hold: not in
/// span names, attributes or metric points. Then (every operation awaited, so its span ended)
/// a short pause for the connection's driver task, the meter flushed, and everything the
/// exporters hold forgotten.
async fn check_and_forget(t: &TestTelemetry, range: Range<usize>) {
    for i in PROBES.into_iter().filter(|i| range.contains(i)) {
        let word = format!("Flood{i}Word");
        assert!(t.leaks(&word).is_empty(), "{:?}", t.leaks(&word));
        assert!(t.leaks(&word.to_uppercase()).is_empty());
    }
    assert_eq!(t.spans().len(), range.len(), "one span per operation");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _ = t.meter_provider.force_flush();
    t.reset();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_flood_keeps_the_series_and_heap_bounded() {
    let t = TestTelemetry::new();
    let (_client, conn) = common::traced(&t).await;
    let started = std::time::Instant::now();
    send(&conn, 0..WARMUP).await;
    check_and_forget(&t, 0..WARMUP).await;
    let before = HEAP.live();
    for start in (WARMUP..TOTAL).step_by(CHUNK) {
        send(&conn, start..start + CHUNK).await;
        check_and_forget(&t, start..start + CHUNK).await;
    }
    let heap = HEAP.since(before);
    let took = started.elapsed();

    let points = t.histogram("db.client.operation.duration");
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert_eq!(total, TOTAL as u64, "every operation measured once");
    let series = t.series("db.client.operation.duration");
    let shapes: Vec<String> = points
        .iter()
        .map(|p| {
            format!(
                "{} | {} | {}",
                p.attr(attribute::DB_QUERY_SUMMARY).unwrap_or_default(),
                p.attr(attribute::ERROR_TYPE).unwrap_or_default(),
                p.attr(attribute::DB_RESPONSE_STATUS_CODE)
                    .unwrap_or_default()
            )
        })
        .collect();
    assert!(series <= MAX_SERIES, "{series} series: {shapes:#?}");
    for expected in [
        "_OTHER | ERR | ERR",
        "EVAL | _OTHER | _OTHER",
        "PIPELINE | ERR | ERR",
        "MULTI _OTHER | EXECABORT | EXECABORT",
    ] {
        assert!(
            shapes.iter().any(|s| s == expected),
            "{expected}: {shapes:#?}"
        );
    }
    eprintln!(
        "redis flood: {OPERATIONS} hostile operations after {WARMUP} of warm-up in {took:?}, \
         {series} series of db.client.operation.duration: {shapes:?}; live heap after the \
         flood {heap} bytes from the level before it"
    );
    assert!(
        heap < MAX_HEAP_GROWTH,
        "heap held after the flood grew by {heap} bytes"
    );
}
