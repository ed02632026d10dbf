//! A flood of hostile operations against the real Redis: 10,000 operations with distinct
//! command names, pipeline and transaction shapes, and script-chosen error replies. The
//! number of series of `db.client.operation.duration` stays at a small constant, because
//! every metric attribute value comes from a closed set (command table, `PIPELINE` / `MULTI`,
//! Redis's own error prefixes, `_OTHER`).

mod common;

use futures_util::future::join_all;
use opentelemetry_semantic_conventions::attribute;
use otel_testkit::TestTelemetry;

/// Operations of the flood.
const OPERATIONS: usize = 10_000;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_flood_keeps_the_series_bounded() {
    let t = TestTelemetry::new();
    let (_client, conn) = common::traced(&t).await;
    let started = std::time::Instant::now();
    for chunk in (0..OPERATIONS).collect::<Vec<_>>().chunks(CONCURRENCY) {
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
    let took = started.elapsed();

    let points = t.histogram("db.client.operation.duration");
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert_eq!(total, OPERATIONS as u64, "every operation measured once");
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
    // No flood word anywhere: not in span names, attributes or metric points.
    for i in [0, 1, 2, 3, 4_999, 9_998, 9_999] {
        let word = format!("Flood{i}Word");
        assert!(t.leaks(&word).is_empty(), "{:?}", t.leaks(&word));
        assert!(t.leaks(&word.to_uppercase()).is_empty());
    }
    eprintln!(
        "redis flood: {OPERATIONS} hostile operations in {took:?}, {series} series of db.client.operation.duration: {shapes:?}"
    );
}
