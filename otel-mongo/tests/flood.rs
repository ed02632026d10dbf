//! A flood of operations with distinct hostile names cannot grow the metric or the handler's
//! state: value-shaped collection and database names are omitted, unknown command names are
//! `_OTHER`, so `db.client.operation.duration` keeps a handful of series.

mod common;

use std::sync::Arc;

use mongodb::bson::{Document, doc};
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::TestTelemetry;

const OPERATIONS: usize = 10_000;
const TASKS: usize = 8;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_hostile_names_keep_a_few_series_and_no_state() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).max_in_flight(64).build();
    let f = Arc::new(common::fixture_with(t, handler).await);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let f = Arc::clone(&f);
        tasks.push(tokio::spawn(async move {
            for i in (task..OPERATIONS).step_by(TASKS) {
                let (db, command) = hostile(i, &f.db_name);
                let _ = f.client.database(&db).run_command(command).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }

    assert_eq!(f.handler.in_flight(), 0, "every command answered");
    assert_eq!(f.handler.lost_replies(), 0);
    let points = f.t.histogram("db.client.operation.duration");
    let total: u64 = points.iter().map(|p| p.count).sum();
    assert!(
        total >= OPERATIONS as u64,
        "{total} measurements for {OPERATIONS} operations"
    );
    println!(
        "{} series after {OPERATIONS} hostile operations",
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
    let spans = f.t.spans();
    assert!(spans.len() >= OPERATIONS, "{} spans", spans.len());
    f.cleanup().await;
}
