//! One span per command against a real MongoDB-protocol server (FerretDB): names, kinds,
//! parents, attributes and status, exactly.

use crate::common;

use common::{assert_attrs_exactly, db_attrs};
use mongodb::IndexModel;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;
use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry_semantic_conventions::attribute as a;
use otel_testkit::SpanAssert;

const TEXT: &str = a::DB_QUERY_TEXT;

#[tokio::test]
async fn insert_one_is_a_child_span_with_sanitized_text() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("orders");
    f.in_span("caller", async {
        coll.insert_one(doc! { "_id": 1, "item": "book" })
            .await
            .expect("insert");
    })
    .await;

    let caller = f.span("caller");
    let span = f.span("insert orders");
    span.assert_kind(SpanKind::Client)
        .assert_child_of(&caller)
        .assert_unset();
    assert_attrs_exactly(
        &span,
        &db_attrs(
            &f,
            "insert",
            Some("orders"),
            &[(
                TEXT,
                r#"{"insert": "orders", "ordered": ?, "documents": [?]}"#.into(),
            )],
        ),
    );
    assert_eq!(f.handler.in_flight(), 0);

    let points = f.t.histogram("db.client.operation.duration");
    let insert = points
        .iter()
        .find(|p| p.attr(a::DB_OPERATION_NAME).as_deref() == Some("insert"))
        .expect("insert measured");
    assert_eq!(insert.count, 1);
    assert_eq!(
        insert.attr(a::DB_COLLECTION_NAME).as_deref(),
        Some("orders")
    );
    assert_eq!(insert.attr(a::DB_QUERY_TEXT), None);
    f.cleanup().await;
}

#[tokio::test]
async fn span_times_are_the_event_times() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("timed");
    let before = std::time::SystemTime::now();
    f.in_span("caller", async {
        coll.insert_one(doc! { "x": 1 }).await.expect("insert");
    })
    .await;
    let after = std::time::SystemTime::now();
    let span = f.span("insert timed");
    assert!(span.start_time >= before && span.end_time <= after);
    assert!(span.end_time >= span.start_time);
    let recorded = f.t.histogram("db.client.operation.duration")[0].sum;
    let exported = span
        .end_time
        .duration_since(span.start_time)
        .expect("ordered")
        .as_secs_f64();
    assert!(
        (recorded - exported).abs() < 1e-6,
        "{recorded} vs {exported}"
    );
    f.cleanup().await;
}

/// Semantic conventions 1.43: documents are operands of one insert, not a batch; the
/// statements of one `update` (or `delete`) command are a batch.
#[tokio::test]
async fn insert_many_is_no_batch_and_multi_statement_updates_are() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("orders");
    f.in_span("caller", async {
        coll.insert_many((0..3).map(|i| doc! { "_id": i }))
            .await
            .expect("insert many");
        f.db.run_command(doc! {
            "update": "orders",
            "updates": [
                { "q": { "_id": 0 }, "u": { "$set": { "a": 1 } } },
                { "q": { "_id": 1 }, "u": { "$set": { "a": 2 } } },
            ],
        })
        .await
        .expect("two updates");
        f.db.run_command(doc! {
            "update": "orders",
            "updates": [{ "q": { "_id": 2 }, "u": { "$set": { "a": 3 } } }],
        })
        .await
        .expect("one update");
    })
    .await;

    let caller = f.span("caller");
    let insert = f.span("insert orders");
    insert.assert_child_of(&caller).assert_unset();
    let text = r#"{"insert": "orders", "ordered": ?, "documents": [?]}"#;
    assert_attrs_exactly(
        &insert,
        &db_attrs(&f, "insert", Some("orders"), &[(TEXT, text.into())]),
    );
    let updates = f.t.spans_named("update orders");
    assert_eq!(updates.len(), 2);
    updates[0]
        .assert_child_of(&caller)
        .assert_attr(a::DB_OPERATION_BATCH_SIZE, 2_i64);
    // A batch of one is no batch.
    updates[1].assert_no_attr(a::DB_OPERATION_BATCH_SIZE);
    f.cleanup().await;
}

#[tokio::test]
async fn find_and_every_get_more_are_children_of_the_caller() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("items");
    coll.insert_many((0..5).map(|i| doc! { "_id": i, "n": i }))
        .await
        .expect("seed");
    f.t.reset();

    let seen = f
        .in_span("caller", async {
            let mut cursor = coll
                .find(doc! { "n": { "$gte": 0 } })
                .batch_size(2)
                .await
                .expect("find");
            let mut seen = 0;
            while cursor.advance().await.expect("advance") {
                seen += 1;
            }
            seen
        })
        .await;
    assert_eq!(seen, 5);

    let caller = f.span("caller");
    let find = f.span("find items");
    // The cursor the find's reply opened, named by every getMore.
    let cursor = find
        .attr("db.mongodb.cursor_id")
        .cloned()
        .expect("cursor id");
    find.assert_kind(SpanKind::Client)
        .assert_child_of(&caller)
        .assert_unset();
    assert_attrs_exactly(
        &find,
        &db_attrs(
            &f,
            "find",
            Some("items"),
            &[
                (
                    TEXT,
                    r#"{"find": "items", "batchSize": ?, "filter": {"n": {"$gte": ?}}}"#.into(),
                ),
                ("db.mongodb.cursor_id", cursor.clone()),
            ],
        ),
    );
    let get_mores = f.t.spans_named("getMore items");
    assert_eq!(get_mores.len(), 2, "5 documents in batches of 2");
    for get_more in &get_mores {
        get_more
            .assert_kind(SpanKind::Client)
            .assert_child_of(&caller)
            .assert_unset();
        assert_attrs_exactly(
            get_more,
            &db_attrs(
                &f,
                "getMore",
                Some("items"),
                &[
                    (
                        TEXT,
                        r#"{"getMore": ?, "collection": "items", "batchSize": ?}"#.into(),
                    ),
                    ("db.mongodb.cursor_id", cursor.clone()),
                ],
            ),
        );
    }
    assert_eq!(f.handler.in_flight(), 0);
    f.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_more_belongs_to_the_task_that_iterates() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("items");
    coll.insert_many((0..4).map(|i| doc! { "_id": i }))
        .await
        .expect("seed");
    f.t.reset();

    let cursor = f
        .in_span("opener", async {
            coll.find(doc! {}).batch_size(2).await.expect("find")
        })
        .await;
    let tracer = f.t.tracer("test");
    let iterate_cx = Context::current_with_span(tracer.start("iterator"));
    let task_cx = iterate_cx.clone();
    let seen = tokio::spawn(
        async move {
            let mut cursor = cursor;
            let mut seen = 0;
            while cursor.advance().await.expect("advance") {
                seen += 1;
            }
            seen
        }
        .with_context(task_cx),
    )
    .await
    .expect("task");
    iterate_cx.span().end();
    assert_eq!(seen, 4);

    let opener = f.span("opener");
    let iterator = f.span("iterator");
    f.span("find items").assert_child_of(&opener);
    let get_mores = f.t.spans_named("getMore items");
    assert!(!get_mores.is_empty());
    for get_more in &get_mores {
        get_more.assert_child_of(&iterator);
    }
    f.cleanup().await;
}

#[tokio::test]
async fn update_delete_count_aggregate_and_create_index() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("stock");
    coll.insert_many((0..4).map(|i| doc! { "_id": i, "n": i }))
        .await
        .expect("seed");
    f.t.reset();

    f.in_span("caller", async {
        coll.update_many(doc! { "n": { "$lt": 2 } }, doc! { "$set": { "low": true } })
            .await
            .expect("update");
        coll.delete_one(doc! { "n": 3 }).await.expect("delete");
        coll.estimated_document_count().await.expect("count");
        let mut cursor = coll
            .aggregate([doc! { "$match": { "low": true } }])
            .await
            .expect("aggregate");
        while cursor.advance().await.expect("advance") {}
        coll.create_index(
            IndexModel::builder()
                .keys(doc! { "n": 1 })
                .options(IndexOptions::builder().name("n_1".to_string()).build())
                .build(),
        )
        .await
        .expect("create index");
    })
    .await;

    let caller = f.span("caller");
    let expected = [
        (
            "update stock",
            "update",
            r#"{"update": "stock", "updates": [{"q": {"n": {"$lt": ?}}, "u": {"$set": {"low": ?}}, "multi": ?}], "ordered": ?}"#,
        ),
        (
            "delete stock",
            "delete",
            r#"{"delete": "stock", "deletes": [{"q": {"n": ?}, "limit": ?}], "ordered": ?}"#,
        ),
        ("count stock", "count", r#"{"count": "stock"}"#),
        (
            "aggregate stock",
            "aggregate",
            r#"{"aggregate": "stock", "pipeline": [{"$match": {"low": ?}}], "cursor": {}}"#,
        ),
        (
            "createIndexes stock",
            "createIndexes",
            r#"{"createIndexes": "stock", "indexes": [{"key": {"n": ?}, "name": ?}]}"#,
        ),
    ];
    for (name, operation, text) in expected {
        let span = f.span(name);
        span.assert_kind(SpanKind::Client)
            .assert_child_of(&caller)
            .assert_unset();
        assert_attrs_exactly(
            &span,
            &db_attrs(&f, operation, Some("stock"), &[(TEXT, text.into())]),
        );
    }
    f.cleanup().await;
}

#[tokio::test]
async fn count_documents_is_an_aggregate_span() {
    let f = common::fixture().await;
    let coll = f.db.collection::<Document>("c");
    coll.insert_one(doc! { "k": 1 }).await.expect("seed");
    f.t.reset();
    let n = f
        .in_span("caller", async {
            coll.count_documents(doc! { "k": 1 }).await.expect("count")
        })
        .await;
    assert_eq!(n, 1);
    let span = f.span("aggregate c");
    span.assert_child_of(&f.span("caller"));
    span.assert_attr(
        TEXT,
        r#"{"aggregate": "c", "pipeline": [{"$match": {"k": ?}}, {"$group": {"_id": ?, "n": {"$sum": ?}}}], "cursor": {}}"#,
    );
    f.cleanup().await;
}

#[tokio::test]
async fn ping_has_no_collection() {
    let f = common::fixture().await;
    f.in_span("caller", async {
        f.db.run_command(doc! { "ping": 1 }).await.expect("ping");
    })
    .await;
    let span = f.span(&format!("ping {}", f.db_name));
    span.assert_child_of(&f.span("caller")).assert_unset();
    assert_attrs_exactly(
        &span,
        &db_attrs(&f, "ping", None, &[(TEXT, r#"{"ping": ?}"#.into())]),
    );
}

#[tokio::test]
async fn commands_without_a_current_span_are_roots() {
    let f = common::fixture().await;
    f.db.run_command(doc! { "ping": 1 }).await.expect("ping");
    let span = f.span(&format!("ping {}", f.db_name));
    assert_eq!(span.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    span.assert_unset();
}
