//! sqlx's own idioms on the traced types, on PostgreSQL: `&mut *tx` and `&mut *conn`, helpers
//! taking `&mut TracedSqlConnection<Postgres>` or `impl Executor`, `try_acquire`, `try_begin`,
//! `begin_with`, savepoints through the deref, sqlx's `Acquire` (and `Migrator::run`) with
//! exactly what they trace, and `require_parent`.

use crate::common;
use otel_sqlx::InstrumentationOptions;

use common::*;
use opentelemetry::context::FutureExt;
use otel_sqlx::{DbInstrumentationOptions as _, TracedPool, TracedSqlConnection};
use otel_testkit::env::{postgres_url, require, unique_name};
use otel_testkit::{SpanAssert, TestTelemetry, describe};
use sqlx::{Acquire, AssertSqlSafe, Executor, Postgres};

async fn raw_pool(max: u32) -> sqlx::PgPool {
    let url = postgres_url();
    require("PostgreSQL", &url);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max)
        .connect(&url)
        .await
        .expect("connect to PostgreSQL")
}

/// A helper written as sqlx's docs write them against `&mut PgConnection`.
async fn count_rows(conn: &mut TracedSqlConnection<Postgres>, table: &str) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(conn)
        .await
        .expect("count")
}

/// A helper generic over the executor.
async fn insert_row<'e>(exec: impl Executor<'e, Database = Postgres>, table: &str, id: i64) {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {table} (id, name) VALUES ($1, 'x')"
    )))
    .bind(id)
    .execute(exec)
    .await
    .expect("insert");
}

/// A helper generic over sqlx's `Acquire`: runs on the raw connection sqlx requires.
async fn acquire_helper<'a, A: Acquire<'a, Database = Postgres>>(a: A) -> i32 {
    let mut conn = a.acquire().await.expect("acquire");
    sqlx::query_scalar("SELECT 41 + 1 AS acquired_answer")
        .fetch_one(&mut *conn)
        .await
        .expect("select")
}

fn names(t: &TestTelemetry) -> Vec<String> {
    t.spans().iter().map(|s| s.name.to_string()).collect()
}

#[tokio::test]
async fn deref_idioms_and_generic_helpers_are_traced() {
    let t = TestTelemetry::new();
    let pool = traced(&t, raw_pool(4).await);
    let table = unique_name("idioms");
    let cx = parent(&t, "parent");
    async {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"
        )))
        .execute(&pool)
        .await
        .expect("create");
        // The generic helper with the pool, a pooled connection and a transaction.
        insert_row(&pool, &table, 1).await;
        let mut conn = pool.acquire().await.expect("acquire");
        insert_row(&mut *conn, &table, 2).await;
        assert_eq!(count_rows(&mut conn, &table).await, 2);
        drop(conn);
        let mut tx = pool.begin().await.expect("begin");
        insert_row(&mut *tx, &table, 3).await;
        assert_eq!(count_rows(&mut tx, &table).await, 3);
        // A savepoint through the deref, rolled back by its drop, then a committed one.
        {
            let mut sp = tx.begin().await.expect("savepoint");
            assert_eq!(sp.depth(), 2);
            insert_row(&mut *sp, &table, 4).await;
        }
        let mut sp = tx.begin().await.expect("savepoint");
        insert_row(&mut *sp, &table, 5).await;
        sp.commit().await.expect("release");
        tx.commit().await.expect("commit");
        let mut conn = pool.acquire().await.expect("acquire");
        assert_eq!(count_rows(&mut conn, &table).await, 4);
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    let all = t.spans();
    let inserts = t.spans_named(&format!("INSERT {table}"));
    assert_eq!(inserts.len(), 5, "{}", describe(&all));
    for s in &all {
        if s.name != "parent" {
            s.assert_child_of(&p);
        }
    }
    let got = names(&t);
    let control: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == ' '))
        .collect();
    assert_eq!(
        control,
        [
            "BEGIN",
            "SAVEPOINT",
            "ROLLBACK TO SAVEPOINT",
            "SAVEPOINT",
            "RELEASE SAVEPOINT",
            "COMMIT"
        ],
        "{}",
        describe(&all)
    );
    assert_eq!(t.spans_named(&format!("SELECT {table}")).len(), 3);
}

#[tokio::test]
async fn try_acquire_try_begin_and_begin_with() {
    let t = TestTelemetry::new();
    let pool = traced(&t, raw_pool(1).await);
    let cx = parent(&t, "parent");
    async {
        // Warm: the one connection is idle afterwards.
        sqlx::query("SELECT 1").execute(&pool).await.expect("warm");
        // Returned connections are released asynchronously.
        let mut held = None;
        for _ in 0..100 {
            held = pool.try_acquire().await;
            if held.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let held = held.expect("an idle connection within 1 s");
        assert!(
            pool.try_acquire().await.is_none(),
            "the pool's only connection is held"
        );
        assert!(pool.try_begin().await.expect("try_begin").is_none());
        drop(held);
        let mut tx = None;
        for _ in 0..100 {
            if let Some(t) = pool
                .try_begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
                .await
                .expect("try_begin_with")
            {
                tx = Some(t);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let mut tx = tx.expect("an idle connection within 1 s");
        let level: String = sqlx::query_scalar("SHOW transaction_isolation")
            .fetch_one(&mut *tx)
            .await
            .expect("show");
        assert_eq!(level, "serializable");
        tx.rollback().await.expect("rollback");
        let mut tx = pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .await
            .expect("begin_with");
        let level: String = sqlx::query_scalar("SHOW transaction_isolation")
            .fetch_one(&mut *tx)
            .await
            .expect("show");
        assert_eq!(level, "repeatable read");
        tx.commit().await.expect("commit");
        let mut conn = pool.acquire().await.expect("acquire");
        let tx = conn
            .begin_with("BEGIN READ ONLY")
            .await
            .expect("connection begin_with");
        tx.rollback().await.expect("rollback");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    let all = t.spans();
    // The try_begin that found no connection recorded nothing.
    assert_eq!(t.spans_named("BEGIN").len(), 3, "{}", describe(&all));
    assert_eq!(t.spans_named("ROLLBACK").len(), 2, "{}", describe(&all));
    assert_eq!(t.spans_named("COMMIT").len(), 1, "{}", describe(&all));
    assert_eq!(t.spans_named("SHOW").len(), 2, "{}", describe(&all));
    for s in &all {
        if s.name != "parent" {
            s.assert_child_of(&p);
        }
    }
}

#[tokio::test]
async fn acquire_and_migrate_run_untraced_as_documented() {
    let t = TestTelemetry::new();
    let pool = traced(&t, raw_pool(2).await);
    let cx = parent(&t, "parent");
    async {
        assert_eq!(acquire_helper(&pool).await, 42);
        let mut conn = pool.acquire().await.expect("acquire");
        assert_eq!(acquire_helper(&mut *conn).await, 42);
        let mut tx = pool.begin().await.expect("begin");
        assert_eq!(acquire_helper(&mut *tx).await, 42);
        tx.commit().await.expect("commit");
        drop(conn);
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations");
        let migrator = sqlx::migrate::Migrator::new(dir).await.expect("migrations");
        migrator
            .run(&pool)
            .await
            .expect("migrate through &TracedPool");
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM otel_sqlx_idioms_widgets")
            .fetch_one(&pool)
            .await
            .expect("migrated table");
        assert!(n >= 0);
    }
    .with_context(cx.clone())
    .await;
    end_parent(&t, &cx, "parent");
    let all = t.spans();
    // What the docs say: queries through sqlx's Acquire (and the migrator's) are not spans of
    // this crate; the traced BEGIN/COMMIT and the final SELECT are.
    let got = names(&t);
    assert!(
        !all.iter().any(|s| s.all_text().contains("acquired_answer")),
        "{}",
        describe(&all)
    );
    assert!(
        !got.iter().any(|n| n.contains("_sqlx_migrations")),
        "{got:?}"
    );
    assert_eq!(
        got.iter().filter(|n| *n != "parent").collect::<Vec<_>>(),
        ["BEGIN", "COMMIT", "SELECT otel_sqlx_idioms_widgets"],
        "{}",
        describe(&all)
    );
}

#[tokio::test]
async fn require_parent_records_the_metric_but_no_root_span() {
    let t = TestTelemetry::new();
    let pool = TracedPool::builder(raw_pool(2).await)
        .tracer_provider(t.tracer_provider.clone())
        .meter_provider(t.meter_provider.clone())
        .require_parent(true)
        .build();
    // No current span: a background job's queries.
    for _ in 0..3 {
        sqlx::query("SELECT 1 AS background")
            .execute(&pool)
            .await
            .expect("select");
    }
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SELECT 2")
        .execute(&mut *tx)
        .await
        .expect("select");
    tx.commit().await.expect("commit");
    assert!(t.spans().is_empty(), "{}", describe(&t.spans()));
    // Inside a trace: spans as usual.
    let cx = parent(&t, "parent");
    async {
        sqlx::query("SELECT 3")
            .execute(&pool)
            .await
            .expect("select");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    let spans = t.spans_named("SELECT");
    assert_eq!(spans.len(), 1, "{}", describe(&t.spans()));
    spans[0].assert_child_of(&p);
    let points = t.histogram("db.client.operation.duration");
    let count: u64 = points.iter().map(|p| p.count).sum();
    // 3 + BEGIN + SELECT + COMMIT without a parent, 1 with one.
    assert_eq!(count, 7, "{points:?}");
}
