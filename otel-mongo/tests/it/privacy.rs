//! Literal values never reach exported telemetry (unless raw mode is chosen explicitly).

use crate::common;

use mongodb::bson::{Document, doc};
use opentelemetry_semantic_conventions::attribute as a;
use otel_mongo::InstrumentationOptions as _;
use otel_mongo::QueryTextMode;
use otel_testkit::{SpanAssert, TestTelemetry};

const PASSWORD: &str = "pa55w0rd-Tr0ub4dor&3";
const NUMBER: i64 = 987_654_321;

async fn run_workload(f: &common::Fixture) {
    let coll = f.db.collection::<Document>("accounts");
    f.in_span("caller", async {
        coll.insert_one(doc! { "user": "alice", "password": PASSWORD, "pin": NUMBER })
            .await
            .expect("insert");
        coll.insert_many([
            doc! { "user": "bob", "password": PASSWORD },
            doc! { "user": "carol", "pin": NUMBER },
        ])
        .await
        .expect("insert many");
        coll.find_one(doc! { "password": PASSWORD, "pin": { "$gt": NUMBER } })
            .await
            .expect("find");
        coll.update_one(
            doc! { "password": PASSWORD },
            doc! { "$set": { "pin": NUMBER } },
        )
        .await
        .expect("update");
        let mut cursor = coll
            .aggregate([doc! { "$match": { "password": PASSWORD } }])
            .await
            .expect("aggregate");
        while cursor.advance().await.expect("advance") {}
        coll.delete_many(doc! { "pin": NUMBER })
            .await
            .expect("delete");
    })
    .await;
}

fn all_text(t: &TestTelemetry) -> String {
    t.spans()
        .iter()
        .map(|s| s.all_text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn sanitized_spans_never_carry_literals() {
    let f = common::fixture().await;
    run_workload(&f).await;
    let text = all_text(&f.t);
    assert_eq!(
        f.t.spans()
            .iter()
            .filter(|s| s.attr(a::DB_QUERY_TEXT).is_some())
            .count(),
        6
    );
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!text.contains(&NUMBER.to_string()), "{text}");
    assert!(!text.contains("alice"), "{text}");
    f.cleanup().await;
}

#[tokio::test]
async fn raw_mode_is_what_leaks_them() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).query_text(QueryTextMode::Raw).build();
    let f = common::fixture_with(t, handler).await;
    run_workload(&f).await;
    let text = all_text(&f.t);
    assert!(text.contains(PASSWORD), "raw mode records values");
    assert!(text.contains(&NUMBER.to_string()));
    f.cleanup().await;
}

#[tokio::test]
async fn off_mode_records_no_text() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t).query_text(QueryTextMode::Off).build();
    let f = common::fixture_with(t, handler).await;
    run_workload(&f).await;
    let spans = f.t.spans();
    assert!(spans.len() > 5);
    for span in &spans {
        span.assert_no_attr(a::DB_QUERY_TEXT);
    }
    f.cleanup().await;
}
