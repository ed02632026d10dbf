//! The shared options vocabulary on `TracedPoolBuilder` (issue 16) and the SQL attribute rules
//! (issue 15), against the real PostgreSQL and MariaDB servers: classification rules, the
//! parsed-names opt-in, batch size, stored procedure name, the switch.

use crate::common;

use std::borrow::Cow;

use common::*;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::Status;
use otel_rpc::DbOperation;
use otel_rpc::{Observed, Verdict};
use otel_sqlx::{DbInstrumentationOptions as _, InstrumentationOptions as _, TracedPool};
use otel_testkit::env::{mysql_url, postgres_url, require, unique_name};
use otel_testkit::{SpanAssert, TestTelemetry, describe};
use sqlx::{AssertSqlSafe, Executor as _};

async fn pg() -> sqlx::PgPool {
    let url = postgres_url();
    require("PostgreSQL", &url);
    sqlx::PgPool::connect(&url).await.expect("connect")
}

/// The doc-test scenario of every crate: the same words on this builder.
fn shared_words(t: &TestTelemetry, pool: sqlx::PgPool) -> TracedPool<sqlx::Postgres> {
    TracedPool::builder(pool)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .query_text(otel_sqlx::QueryTextMode::Sanitized)
        .max_query_text_len(1024)
        .error_text(otel_sqlx::ErrorTextMode::Off)
        .filter(|op: &DbOperation<'_>| op.summary.as_ref().is_none_or(|s| s.as_str() != "SHOW"))
        .span_name(|op: &DbOperation<'_>| Cow::Owned(format!("db {}", op.span_name())))
        .build()
}

#[tokio::test]
async fn shared_vocabulary_filter_and_span_name() {
    let t = TestTelemetry::new();
    let pool = shared_words(&t, pg().await);
    sqlx::query("SHOW server_version")
        .execute(&pool)
        .await
        .expect("show");
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");
    let spans = t.spans();
    assert_eq!(spans.len(), 1, "{}", describe(&spans));
    t.span("db SELECT")
        .assert_attr("db.query.summary", "SELECT")
        .assert_attr("db.query.text", "SELECT ?");
}

#[tokio::test]
async fn classification_rules_flip_outcomes() {
    let table = unique_name("pg_cls");
    let raw = pg().await;
    raw.execute(AssertSqlSafe(format!(
        "CREATE TABLE {table} (id BIGINT PRIMARY KEY)"
    )))
    .await
    .expect("table");

    // 23505 is expected on this pool: status Unset, no error.type, the status code kept.
    let t = TestTelemetry::new();
    let pool = TracedPool::builder(raw.clone())
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .classify(|o| match o {
            Observed::Db {
                status_code: Some("23505"),
                ..
            } => Some(Verdict::NotError),
            _ => None,
        })
        .build();
    let insert = format!("INSERT INTO {table} (id) VALUES ($1)");
    for _ in 0..2 {
        let _ = sqlx::query(AssertSqlSafe(insert.clone()))
            .bind(1i64)
            .execute(&pool)
            .await;
    }
    let err = sqlx::query("SELECT 1/0")
        .execute(&pool)
        .await
        .expect_err("division by zero");
    assert!(matches!(err, sqlx::Error::Database(_)));
    let inserts = t.spans_named(&format!("INSERT {table}"));
    assert_eq!(inserts.len(), 2, "{}", describe(&t.spans()));
    let duplicate = inserts
        .iter()
        .find(|s| s.attr("db.response.status_code").is_some())
        .expect("the duplicate insert");
    duplicate
        .assert_unset()
        .assert_no_attr("error.type")
        .assert_attr("db.response.status_code", "23505");
    // Other codes keep the default rule.
    t.span("SELECT")
        .assert_error()
        .assert_attr("error.type", "22012");

    // A success flipped to Error.
    let t = TestTelemetry::new();
    let pool = TracedPool::builder(raw.clone())
        .tracer_provider(t.tracer_provider.clone())
        .classify(|o| match o {
            Observed::Db {
                status_code: None,
                error_type: None,
                ..
            } => Some(Verdict::Error),
            _ => None,
        })
        .build();
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("select");
    let span = t.span("SELECT");
    assert!(matches!(span.status, Status::Error { .. }), "{span:?}");
    span.assert_attr("error.type", "_OTHER");

    raw.execute(AssertSqlSafe(format!("DROP TABLE {table}")))
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn names_are_parsed_only_when_asked() {
    let raw = pg().await;
    for parse in [false, true] {
        let t = TestTelemetry::new();
        let pool = TracedPool::builder(raw.clone())
            .tracer_provider(t.tracer_provider.clone())
            .meter_provider(t.meter_provider.clone())
            .parse_operation_and_collection(parse)
            .build();
        sqlx::query("SELECT count(*) FROM pg_catalog.pg_am")
            .fetch_one(&pool)
            .await
            .expect("select");
        let span = t.span("SELECT pg_catalog.pg_am");
        let point = t
            .histogram("db.client.operation.duration")
            .into_iter()
            .next()
            .expect("a metric point");
        if parse {
            span.assert_attr("db.operation.name", "SELECT")
                .assert_attr("db.collection.name", "pg_catalog.pg_am");
            assert_eq!(point.attr("db.operation.name").as_deref(), Some("SELECT"));
            assert_eq!(
                point.attr("db.collection.name").as_deref(),
                Some("pg_catalog.pg_am")
            );
        } else {
            span.assert_no_attr("db.operation.name")
                .assert_no_attr("db.collection.name");
            assert_eq!(point.attr("db.operation.name"), None);
            assert_eq!(point.attr("db.collection.name"), None);
        }
        assert_eq!(
            point.attr("db.query.summary").as_deref(),
            Some("SELECT pg_catalog.pg_am")
        );
    }
}

#[tokio::test]
async fn batch_size_and_stored_procedure() {
    let t = TestTelemetry::new();
    let raw = pg().await;
    let procedure = unique_name("pg_proc");
    raw.execute(AssertSqlSafe(format!(
        "CREATE PROCEDURE {procedure}(x INT) LANGUAGE sql AS $$ SELECT x $$"
    )))
    .await
    .expect("procedure");
    let pool = traced(&t, raw.clone());
    sqlx::raw_sql("SELECT 1; SELECT 2; SELECT 3")
        .execute(&pool)
        .await
        .expect("batch");
    sqlx::query(AssertSqlSafe(format!("CALL {procedure}($1)")))
        .bind(7i32)
        .execute(&pool)
        .await
        .expect("call");
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .expect("single");
    let spans = t.spans();
    let batch = spans
        .iter()
        .find(|s| s.attr("db.operation.batch.size").is_some())
        .unwrap_or_else(|| panic!("no batch span: {}", describe(&spans)));
    batch.assert_attr("db.operation.batch.size", 3i64);
    let call = spans
        .iter()
        .find(|s| s.attr("db.stored_procedure.name").is_some())
        .unwrap_or_else(|| panic!("no CALL span: {}", describe(&spans)));
    call.assert_attr("db.stored_procedure.name", procedure.clone())
        .assert_no_attr("db.operation.batch.size");
    t.span("SELECT")
        .assert_no_attr("db.operation.batch.size")
        .assert_no_attr("db.stored_procedure.name");
    raw.execute(AssertSqlSafe(format!("DROP PROCEDURE {procedure}")))
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn mariadb_call_records_the_procedure() {
    let url = mysql_url();
    require("MariaDB", &url);
    let raw = sqlx::MySqlPool::connect(&url).await.expect("connect");
    let procedure = unique_name("my_proc");
    raw.execute(AssertSqlSafe(format!(
        "CREATE PROCEDURE {procedure}(x INT) BEGIN SELECT x; END"
    )))
    .await
    .expect("procedure");
    let t = TestTelemetry::new();
    let pool = traced(&t, raw.clone());
    sqlx::query(AssertSqlSafe(format!("CALL {procedure}(?)")))
        .bind(7i32)
        .execute(&pool)
        .await
        .expect("call");
    let spans = t.spans();
    let call = spans
        .iter()
        .find(|s| s.attr("db.stored_procedure.name").is_some())
        .unwrap_or_else(|| panic!("no CALL span: {}", describe(&spans)));
    call.assert_attr("db.stored_procedure.name", procedure.clone())
        .assert_attr("db.system.name", "mariadb");
    raw.execute(AssertSqlSafe(format!("DROP PROCEDURE {procedure}")))
        .await
        .expect("cleanup");
}

#[tokio::test]
async fn disabled_is_a_pass_through() {
    let t = TestTelemetry::new();
    let pool = TracedPool::builder(pg().await)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .enabled(false)
        .build();
    let cx = parent(&t, "parent");
    async {
        let n: i32 = sqlx::query_scalar("SELECT 41 + 1")
            .fetch_one(&pool)
            .await
            .expect("select");
        assert_eq!(n, 42);
        let tx = pool.begin().await.expect("begin");
        tx.commit().await.expect("commit");
    }
    .with_context(cx.clone())
    .await;
    end_parent(&t, &cx, "parent");
    assert_eq!(
        t.spans().len(),
        1,
        "only the test's parent: {}",
        describe(&t.spans())
    );
    assert!(t.histogram("db.client.operation.duration").is_empty());
    assert_eq!(t.series("db.client.connection.count"), 0);
}
