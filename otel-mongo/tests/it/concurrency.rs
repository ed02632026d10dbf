//! Many tasks at once: every command span lands under its own task's span.

use crate::common;

use std::collections::HashMap;

use mongodb::bson::{Document, doc};
use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanId, TraceContextExt, Tracer};
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::SpanAssert;

const TASKS: usize = 50;
const OPS_PER_TASK: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_tasks_never_cross_parents() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("load");
    let tracer = f.t.tracer("test");
    let mut handles = Vec::new();
    let mut parents = Vec::new();
    for task in 0..TASKS {
        let cx = Context::current_with_span(tracer.start(format!("task-{task}")));
        parents.push(cx.clone());
        let coll = coll.clone();
        handles.push(tokio::spawn(
            async move {
                for op in 0..OPS_PER_TASK {
                    if op % 2 == 0 {
                        coll.insert_one(doc! { "task": task as i64, "op": op as i64 })
                            .await
                            .expect("insert");
                    } else {
                        coll.find_one(doc! { "task": task as i64 })
                            .await
                            .expect("find_one");
                    }
                    tokio::task::yield_now().await;
                }
            }
            .with_context(cx),
        ));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    for cx in &parents {
        cx.span().end();
    }

    let spans = f.t.spans();
    let by_id: HashMap<SpanId, &otel_testkit::ExportedSpan> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    let mut per_parent: HashMap<String, usize> = HashMap::new();
    let db_spans: Vec<_> = spans
        .iter()
        .filter(|s| s.attr(a::DB_SYSTEM_NAME).is_some())
        .collect();
    assert_eq!(db_spans.len(), TASKS * OPS_PER_TASK);
    for span in db_spans {
        let parent = by_id
            .get(&span.parent_span_id)
            .unwrap_or_else(|| panic!("span {:?} has no exported parent", span.name));
        span.assert_child_of(parent);
        assert!(parent.name.starts_with("task-"), "{:?}", parent.name);
        assert!(span.name == "insert load" || span.name == "find load");
        *per_parent.entry(parent.name.to_string()).or_default() += 1;
    }
    assert_eq!(per_parent.len(), TASKS);
    assert!(
        per_parent.values().all(|n| *n == OPS_PER_TASK),
        "{per_parent:?}"
    );
    assert_eq!(f.handler.in_flight(), 0);
    assert_eq!(f.handler.lost_replies(), 0);
    f.cleanup().await;
}
