//! Filter, span name and attribute hooks, text length cap.

mod common;

use mongodb::bson::{Document, doc};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::{SpanAssert, TestTelemetry};

#[tokio::test]
async fn filter_skips_commands_and_their_state() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .filter(|cmd| cmd.command_name != "ping")
        .build();
    let f = common::fixture_with(t, handler).await;
    f.in_span("caller", async {
        f.db.run_command(doc! { "ping": 1 }).await.expect("ping");
        f.db.collection::<Document>("c")
            .insert_one(doc! { "x": 1 })
            .await
            .expect("insert");
    })
    .await;
    assert!(f.t.spans_named("ping").is_empty());
    f.span("insert c").assert_child_of(&f.span("caller"));
    assert_eq!(f.handler.in_flight(), 0);
    f.cleanup().await;
}

#[tokio::test]
async fn span_name_and_attribute_hooks() {
    let t = TestTelemetry::new();
    let handler = common::builder(&t)
        .span_name(|cmd, _op| format!("mongo.{}", cmd.command_name))
        .attributes(|cmd, out| {
            out.push(KeyValue::new("app.tenant", cmd.db.clone()));
        })
        .max_query_text_len(24)
        .build();
    let f = common::fixture_with(t, handler).await;
    f.in_span("caller", async {
        f.db.collection::<Document>("orders")
            .insert_one(doc! { "x": 1 })
            .await
            .expect("insert");
    })
    .await;
    let span = f.span("mongo.insert");
    span.assert_child_of(&f.span("caller"))
        .assert_attr("app.tenant", f.db_name.clone())
        .assert_attr(a::DB_QUERY_SUMMARY, "insert orders")
        .assert_attr(a::DB_QUERY_TEXT, r#"{"insert": "orders", …"#);
    f.cleanup().await;
}
