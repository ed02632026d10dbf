//! PostgreSQL: CRUD, streams, errors and transactions through a traced pool, asserting
//! span names, attributes, parents, status and the duration metric exactly.

use crate::common;

use common::*;
use futures_util::TryStreamExt;
use opentelemetry::context::FutureExt;
use otel_sqlx::TracedPool;
use otel_testkit::env::{postgres_url, require, unique_name};
use otel_testkit::{SpanAssert, TestTelemetry};
use sqlx::{AssertSqlSafe, Postgres, Row};

const PG: &str = "postgresql";

async fn pool(t: &TestTelemetry) -> TracedPool<Postgres> {
    let url = postgres_url();
    require("PostgreSQL", &url);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect(&url)
        .await
        .expect("connect to PostgreSQL");
    traced(t, pool)
}

fn server() -> Option<(&'static str, i64)> {
    Some(("127.0.0.1", 5432))
}

#[tokio::test]
async fn crud_spans_are_exact() {
    let t = TestTelemetry::new();
    let pool = pool(&t).await;
    let table = unique_name("pg_crud");
    let cx = parent(&t, "parent");
    async {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY, name TEXT NOT NULL)"
        )))
        .execute(&pool)
        .await
        .expect("create");
        for (id, name) in [
            (1i64, "alice-secret"),
            (2, "bob-secret"),
            (3, "carol-secret"),
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {table} (id, name) VALUES ($1, $2)"
            )))
            .bind(id)
            .bind(name)
            .execute(&pool)
            .await
            .expect("insert");
        }
        let all = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, name FROM {table} ORDER BY id"
        )))
        .fetch_all(&pool)
        .await
        .expect("select all");
        assert_eq!(all.len(), 3);
        let name: String = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT name FROM {table} WHERE id = $1 AND name <> 'literal-secret'"
        )))
        .bind(2i64)
        .fetch_one(&pool)
        .await
        .expect("fetch_one");
        assert_eq!(name, "bob-secret");
        let row: (i64, String) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT id, name FROM {table} WHERE id IN (1, 2, 3) ORDER BY id DESC LIMIT 1"
        )))
        .fetch_one(&pool)
        .await
        .expect("query_as");
        assert_eq!(row.0, 3);
        {
            let mut stream = sqlx::query(AssertSqlSafe(format!(
                "SELECT id FROM {table} ORDER BY id ASC"
            )))
            .fetch(&pool);
            let first = stream.try_next().await.expect("first row").expect("a row");
            assert_eq!(first.get::<i64, _>(0), 1);
        }
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET name = 'renamed' WHERE id >= $1"
        )))
        .bind(2i64)
        .execute(&pool)
        .await
        .expect("update");
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE id = 42 OR id = 1"
        )))
        .execute(&pool)
        .await
        .expect("delete");
        sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE {table}")))
            .execute(&pool)
            .await
            .expect("drop");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");

    let create = t.span(&format!("CREATE TABLE {table}"));
    assert_common(&create, PG, "test", server());
    assert_query(
        &create,
        &p,
        "CREATE",
        Some(&table),
        &format!("CREATE TABLE {table}"),
        0,
        Some(0),
    );

    let inserts = t.spans_named(&format!("INSERT {table}"));
    assert_eq!(inserts.len(), 3);
    for s in &inserts {
        assert_common(s, PG, "test", server());
        assert_query(
            s,
            &p,
            "INSERT",
            Some(&table),
            &format!("INSERT {table}"),
            0,
            Some(1),
        );
        s.assert_attr(
            "db.query.text",
            format!("INSERT INTO {table} (id, name) VALUES ($1, $2)"),
        );
    }

    let select_all = span_with_text(&t, &format!("SELECT id, name FROM {table} ORDER BY id"));
    assert_common(&select_all, PG, "test", server());
    assert_query(
        &select_all,
        &p,
        "SELECT",
        Some(&table),
        &format!("SELECT {table}"),
        3,
        Some(3),
    );

    let one = span_with_text(
        &t,
        &format!("SELECT name FROM {table} WHERE id = $1 AND name <> ?"),
    );
    assert_query(
        &one,
        &p,
        "SELECT",
        Some(&table),
        &format!("SELECT {table}"),
        1,
        None,
    );

    let as_ = span_with_text(
        &t,
        &format!("SELECT id, name FROM {table} WHERE id IN (?) ORDER BY id DESC LIMIT ?"),
    );
    assert_query(
        &as_,
        &p,
        "SELECT",
        Some(&table),
        &format!("SELECT {table}"),
        1,
        None,
    );

    // A stream dropped after its first row: Success with the rows seen so far.
    let early = span_with_text(&t, &format!("SELECT id FROM {table} ORDER BY id ASC"));
    assert_query(
        &early,
        &p,
        "SELECT",
        Some(&table),
        &format!("SELECT {table}"),
        1,
        None,
    );

    let update = t.span(&format!("UPDATE {table}"));
    update.assert_attr(
        "db.query.text",
        format!("UPDATE {table} SET name = ? WHERE id >= $1"),
    );
    assert_query(
        &update,
        &p,
        "UPDATE",
        Some(&table),
        &format!("UPDATE {table}"),
        0,
        Some(2),
    );

    let delete = t.span(&format!("DELETE {table}"));
    delete.assert_attr(
        "db.query.text",
        format!("DELETE FROM {table} WHERE id = ? OR id = ?"),
    );
    assert_query(
        &delete,
        &p,
        "DELETE",
        Some(&table),
        &format!("DELETE {table}"),
        0,
        Some(1),
    );

    for s in t.spans() {
        let text = s.all_text();
        assert!(
            !text.contains("secret") && !text.contains("renamed"),
            "leak: {text}"
        );
    }

    let points = t.histogram("db.client.operation.duration");
    let insert_point = points
        .iter()
        .find(|p| p.attr("db.query.summary") == Some(format!("INSERT {table}")))
        .expect("INSERT metric point");
    assert_eq!(insert_point.count, 3);
    assert_eq!(insert_point.attr("db.system.name").as_deref(), Some(PG));
    // Not parsed from the query text by default: the summary carries operation and table.
    assert_eq!(insert_point.attr("db.collection.name"), None);
    assert_eq!(insert_point.attr("db.operation.name"), None);
    assert!(points.iter().all(|p| p.attr("db.query.text").is_none()));
}

#[tokio::test]
async fn errors_carry_sqlstate() {
    let t = TestTelemetry::new();
    let pool = pool(&t).await;
    let table = unique_name("pg_err");
    let cx = parent(&t, "parent");
    async {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY)"
        )))
        .execute(&pool)
        .await
        .expect("create");
        let err = sqlx::query("SELEC 1 FROM nowhere").execute(&pool).await;
        assert!(err.is_err());
        let insert = format!("INSERT INTO {table} (id) VALUES (7)");
        sqlx::query(AssertSqlSafe(insert.clone()))
            .execute(&pool)
            .await
            .expect("first insert");
        let dup = sqlx::query(AssertSqlSafe(insert)).execute(&pool).await;
        assert!(dup.is_err());
        sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE {table}")))
            .execute(&pool)
            .await
            .expect("drop");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");

    let syntax = t.span("SELEC");
    assert_failed(&syntax, &p, "42601");
    syntax.assert_attr("db.query.text", "SELEC ? FROM nowhere");

    let inserts = t.spans_named(&format!("INSERT {table}"));
    assert_eq!(inserts.len(), 2);
    let failed: Vec<_> = inserts
        .iter()
        .filter(|s| s.attr("error.type").is_some())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_failed(failed[0], &p, "23505");

    let points = t.histogram("db.client.operation.duration");
    assert!(
        points
            .iter()
            .any(|p| p.attr("error.type").as_deref() == Some("23505")
                && p.attr("db.response.status_code").as_deref() == Some("23505"))
    );
}

#[tokio::test]
async fn transactions_commit_rollback_drop_and_savepoint() {
    let t = TestTelemetry::new();
    let pool = pool(&t).await;
    let table = unique_name("pg_tx");
    let cx = parent(&t, "parent");
    async {
        sqlx::raw_sql(AssertSqlSafe(format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY)"
        )))
        .execute(&pool)
        .await
        .expect("create");
        let insert = format!("INSERT INTO {table} (id) VALUES ($1)");

        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(AssertSqlSafe(insert.clone()))
            .bind(1i64)
            .execute(&mut *tx)
            .await
            .expect("in tx");
        {
            let mut sp = tx.begin().await.expect("savepoint");
            assert_eq!(sp.depth(), 2);
            sqlx::query(AssertSqlSafe(insert.clone()))
                .bind(2i64)
                .execute(&mut *sp)
                .await
                .expect("in sp");
            sp.rollback().await.expect("rollback to savepoint");
        }
        {
            let mut sp = tx.begin().await.expect("savepoint 2");
            sqlx::query(AssertSqlSafe(insert.clone()))
                .bind(3i64)
                .execute(&mut *sp)
                .await
                .expect("in sp2");
            sp.commit().await.expect("release");
        }
        tx.commit().await.expect("commit");

        let mut tx = pool.begin().await.expect("begin 2");
        sqlx::query(AssertSqlSafe(insert.clone()))
            .bind(4i64)
            .execute(&mut *tx)
            .await
            .expect("in tx2");
        tx.rollback().await.expect("rollback");

        {
            let mut conn = pool.acquire().await.expect("acquire");
            let mut tx = conn.begin().await.expect("begin 3");
            sqlx::query(AssertSqlSafe(insert.clone()))
                .bind(5i64)
                .execute(&mut *tx)
                .await
                .expect("in tx3");
            drop(tx);
        }

        let ids: Vec<i64> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT id FROM {table} ORDER BY id")))
                .fetch_all(&pool)
                .await
                .expect("select");
        assert_eq!(ids, vec![1, 3]);
        sqlx::raw_sql(AssertSqlSafe(format!("DROP TABLE {table}")))
            .execute(&pool)
            .await
            .expect("drop");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");

    let begins = t.spans_named("BEGIN");
    assert_eq!(begins.len(), 3);
    for b in &begins {
        b.assert_child_of(&p)
            .assert_unset()
            .assert_attr("db.operation.name", "BEGIN");
        assert_common(b, PG, "test", server());
    }
    t.span("COMMIT")
        .assert_child_of(&p)
        .assert_unset()
        .assert_attr("db.operation.name", "COMMIT");
    assert_eq!(t.spans_named("SAVEPOINT").len(), 2);
    t.span("RELEASE SAVEPOINT")
        .assert_child_of(&p)
        .assert_unset();
    t.span("ROLLBACK TO SAVEPOINT")
        .assert_child_of(&p)
        .assert_no_attr(otel_sqlx::DB_TRANSACTION_DROPPED);
    let rollbacks = t.spans_named("ROLLBACK");
    assert_eq!(rollbacks.len(), 2);
    let dropped: Vec<_> = rollbacks
        .iter()
        .filter(|r| r.attr(otel_sqlx::DB_TRANSACTION_DROPPED).is_some())
        .collect();
    assert_eq!(
        dropped.len(),
        1,
        "one rollback comes from the dropped transaction"
    );
    dropped[0]
        .assert_attr(otel_sqlx::DB_TRANSACTION_DROPPED, true)
        .assert_unset()
        .assert_child_of(&p);

    let inserts = t.spans_named(&format!("INSERT {table}"));
    assert_eq!(inserts.len(), 5);
    for s in &inserts {
        s.assert_child_of(&p).assert_unset();
    }
}

#[tokio::test]
async fn query_abandoned_before_any_answer_is_cancelled() {
    let t = TestTelemetry::new();
    let pool = pool(&t).await;
    let cx = parent(&t, "parent");
    async {
        let r = tokio::time::timeout(
            std::time::Duration::from_millis(100),
            sqlx::query("SELECT pg_sleep(1)").execute(&pool),
        )
        .await;
        assert!(r.is_err(), "the timeout fires first");
    }
    .with_context(cx.clone())
    .await;
    let p = end_parent(&t, &cx, "parent");
    t.span("SELECT")
        .assert_child_of(&p)
        .assert_error()
        .assert_attr("error.type", "cancelled")
        .assert_no_attr("db.response.status_code");
}
